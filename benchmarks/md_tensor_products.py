#!/usr/bin/env python
"""MD steps/s of trained models with the tensor products traced as static slices or as e3j's
evaluation, in the workflow's own MD loop.

    .venv/bin/python benchmarks/md_tensor_products.py --results results/default \
        [--models mace-nu2-L2-N20/four-site mace-nu3-L2-N20/three-site] [--chains 1 3]

Each measurement is a fresh process pinned to one free CPU (as the workflow's MLP jobs are),
running ``mapmatters.mlp.simulation.model_system`` (the trained parameters of
``<results>/<system>/mlp/<variant>/<mapping>/params.pkl``) through
``mapmatters.simulate.md.run`` with the workflow's MD block of the system (``config/config.yaml``:
dt, skin, slots per pair, friction), for ``--length-ps`` (steps/s over every chunk; compilation
happens before the clock). The methods alternate (``--reps`` rounds), so a drift of the machine
hits both. Prints the machine, the load average and, per model and chain count, every
repetition's steps/s and the ratio of the medians (slices / e3j).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
METHODS = ("sliced", "e3j")


def _worker(a) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(HERE))
    from mapmatters.mlp import runtime
    runtime.configure("", 1, None, pin_cpus=True, keep_freed=True)
    from mlp_speed import workflow_md_block

    from mapmatters.mlp import tensor_product as TP
    from mapmatters.mlp.pipeline import start_positions
    from mapmatters.mlp.simulation import model_system
    from mapmatters.simulate import md as MD

    TP.MD = a.method           # what model_system traces with
    cfg = MD.loop_config({**workflow_md_block(a.system), "length_ps": a.length_ps})
    variant, mapping = a.model.split("/")
    base = Path(a.results) / a.system
    h5 = base / "cg" / f"{mapping}.h5"
    system, _ = model_system(str(base / "mlp" / variant / mapping / "params.pkl"), str(h5), skin=cfg["skin"])
    R0, _ = start_positions(str(h5), a.chains_one, "evenly")
    with tempfile.TemporaryDirectory() as tmp:
        out = MD.run(system, R0, Path(tmp) / "md.h5", cfg, seeds=range(a.chains_one), log=lambda m: None)
    return {"steps_per_s": out["speed"]["steps_per_s"], "timed_steps": out["speed"]["timed_steps"],
            "skin": cfg["skin"], "capacity_margin": cfg["capacity_margin"], "cpus": sorted(os.sched_getaffinity(0))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default=str(ROOT / "results/default"))
    ap.add_argument("--system", default="hexane")
    ap.add_argument("--models", nargs="+", default=["mace-nu2-L2-N20/four-site", "mace-nu3-L2-N20/three-site"],
                    help="variant/mapping of trained models")
    ap.add_argument("--chains", nargs="+", type=int, default=[1])
    ap.add_argument("--length-ps", type=float, default=6.0)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--method", choices=METHODS, help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--chains-one", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        print("RESULT " + json.dumps(_worker(a)), flush=True)
        return 0

    sys.path.insert(0, str(HERE))
    from mlp_speed import load_note, machine

    m = machine()
    print(f"# {m['cpu']}, {m['cores']} cores; {load_note()}", flush=True)
    print("| model | chains | slices (steps/s) | e3j (steps/s) | slices / e3j |")
    print("|---|---|---|---|---|")
    for model in a.models:
        for chains in a.chains:
            got = {k: [] for k in METHODS}
            for _ in range(a.reps):
                for method in METHODS:
                    args = [sys.executable, __file__, "--worker", "--method", method, "--model", model,
                            "--chains-one", str(chains), "--results", a.results, "--system", a.system,
                            "--length-ps", str(a.length_ps)]
                    p = subprocess.run(args, capture_output=True, text=True,
                                       env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
                    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
                    if p.returncode or not line:
                        sys.exit(f"worker failed ({model}, {method}):\n{p.stderr[-3000:]}")
                    got[method].append(json.loads(line[-1][7:])["steps_per_s"])
            ratio = statistics.median(got["sliced"]) / statistics.median(got["e3j"])
            cells = [", ".join(f"{v:.1f}" for v in got[k]) for k in METHODS]
            print(f"| {model} | {chains} | {cells[0]} | {cells[1]} | {ratio:.2f}x |", flush=True)
    print(f"# after: {load_note(own=1.0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
