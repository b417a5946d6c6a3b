#!/usr/bin/env python
"""What JAX's persistent compilation cache saves an MLP training job (start-up included).

    .venv/bin/python benchmarks/compile_cache.py --datasets results/default/alanine/cg/heavy-atom.h5 \\
        results/default/alanine/cg/core-beta.h5 [--epochs 2]

Each row is one fresh process running ``mapmatters.mlp.pipeline.train_variant`` (the default
preset's alanine model, variant and training from ``config/config.yaml``, ``--epochs`` epochs) into
a new output folder, so it pays what a workflow job pays:
imports, data, model init, compilation, training, test. Rows, in one invocation:

1. first dataset, no cache;  2. first dataset, empty cache (fills it);
3. first dataset again, warm cache (a rerun or a resumed job);
4. second dataset (another model), no cache;  5. second dataset, the cache filled by 1-3.

Prints wall seconds, the ratio to the uncached run of the same dataset, the test force RMSE
(equal with and without the cache), the CPU and the load average (a warning above 0.5 per core).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mlp_speed import load_note, machine  # noqa: E402

WORKER = """
import json, sys, time, os
t0 = time.perf_counter()
from mapmatters.mlp.runtime import configure
configure("", 1, os.environ.get("MM_CACHE") or None)
from mapmatters.mlp.pipeline import train_variant
base, variant, train = json.loads(sys.argv[3])
m = train_variant(sys.argv[1], sys.argv[2], base, variant, train, seed=1, log=lambda *a: None)
print(f"RESULT {time.perf_counter() - t0:.2f} {m['testing_force_error']['rmse_mev_a']:.4f}")
"""


def alanine_job(epochs: int) -> list[dict]:
    """[model, variant, training] of the default preset's alanine MACE, ``epochs`` epochs."""
    import yaml

    cfg = yaml.safe_load((HERE.parent / "config/config.yaml").read_text())["mlp"]["alanine"]
    return [cfg["model"], cfg["variants"]["mace"], {**cfg["train"], "epochs": epochs}]


def run(dataset: str, cache: str | None, job: list[dict], work: Path) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_FLAGS", "JAX_"))}
    env["PYTHONPATH"] = str(HERE.parent / "src")
    env["MM_CACHE"] = cache or ""
    out = Path(tempfile.mkdtemp(dir=work))
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", WORKER, dataset, str(out), json.dumps(job)], env=env,
                       capture_output=True, text=True)
    if p.returncode:
        sys.exit(p.stderr[-3000:])
    line = next(x for x in p.stdout.splitlines() if x.startswith("RESULT"))
    _, _, rmse = line.split()
    return time.perf_counter() - t0, float(rmse)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs=2, required=True, help="two CG datasets (two different models)")
    ap.add_argument("--epochs", type=int, default=2)
    a = ap.parse_args(argv)
    m = machine()
    print(f"# {m['cpu']}, {m['cores']} cores; {load_note()}")
    with tempfile.TemporaryDirectory() as tmp:
        work, cache = Path(tmp), str(Path(tmp) / "cache")
        first, second = a.datasets
        rows = [("first model, no cache", first, None), ("first model, empty cache", first, cache),
                ("first model, warm cache (rerun)", first, cache), ("second model, no cache", second, None),
                ("second model, cache of the first", second, cache)]
        base, out, job = {}, [], alanine_job(a.epochs)
        for label, ds, c in rows:
            wall, rmse = run(ds, c, job, work)
            base.setdefault(ds, wall)
            out.append((label, wall, wall / base[ds], rmse))
        print(f"{'run':36s} {'wall (s)':>9s} {'vs no cache':>12s} {'test RMSE (meV/A)':>18s}")
        for label, wall, ratio, rmse in out:
            print(f"{label:36s} {wall:9.1f} {ratio:12.2f} {rmse:18.4f}")
    print(f"# {load_note()}")


if __name__ == "__main__":
    main()
