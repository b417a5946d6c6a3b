#!/usr/bin/env python
"""Is a preset's MLP converged? The same model trained ``--factor`` times longer on the same frames.

    .venv/bin/python benchmarks/convergence.py --system hexane --mapping three-site \\
        --variant mace-nu2-L2-N20 [--results results/default] [--factor 4] [--stride 1]

Reads the model, variant and training of ``--system`` from the config (``config/config.yaml``
plus ``--configfile``), and trains it on ``<results>/<system>/cg/<mapping>.h5`` (with the
workflow's seed) twice, each in a fresh process (one core each, pinned when two are free): with
the preset's epochs and with ``--factor`` x as many. The learning-rate schedule decays per
epoch, so the longer run repeats the shorter one and goes on. ``--stride`` trains a third time,
on more frames (the preset's epochs).
Prints the held-out test force RMSE (meV/A) of each and its change relative to the preset's run;
the issue's criterion is a change within 2 %. Names the CPU and warns when the machine is busy.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from mlp_speed import load_note, machine  # noqa: E402

WORKER = """
import json, sys, time
t0 = time.perf_counter()
from mapmatters.mlp.runtime import configure
configure("", 1, None, pin_cpus=True)
from mapmatters.mlp.pipeline import train_variant
base, variant, train, seed = json.loads(sys.argv[3])
m = train_variant(sys.argv[1], sys.argv[2], base, variant, train, seed=seed, log=lambda *a: None)
print(f"RESULT {time.perf_counter() - t0:.2f} {m['testing_force_error']['rmse_mev_a']:.4f} "
      f"{m['n_frames']['training']}")
"""


def system_block(system: str, mapping: str, variant: str, configfiles: list[str]) -> tuple[dict, int]:
    """(``mlp.<system>`` with ``like`` resolved, the training seed the workflow gives this model)
    from the default config and the presets."""
    import yaml

    from mapmatters.config import resolve_like, stage_seed

    cfg = yaml.safe_load((HERE.parent / "config/config.yaml").read_text())
    for f in configfiles:
        from snakemake.utils import update_config

        update_config(cfg, yaml.safe_load(Path(f).read_text()))
    resolve_like(cfg)
    return cfg["mlp"][system], stage_seed(cfg["seed"], cfg["preset"], system, mapping, variant, "train")


def start(dataset: str, job: list, out: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XLA_FLAGS", "JAX_"))}
    env["PYTHONPATH"] = str(HERE.parent / "src")
    return subprocess.Popen([sys.executable, "-c", WORKER, dataset, str(out), json.dumps(job)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(p: subprocess.Popen) -> tuple[float, float, int]:
    out, err = p.communicate()
    if p.returncode:
        sys.exit(err[-3000:])
    _, wall, rmse, n = next(x for x in out.splitlines() if x.startswith("RESULT")).split()
    return float(wall), float(rmse), int(n)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", default="hexane")
    ap.add_argument("--mapping", required=True)
    ap.add_argument("--variant", required=True)
    ap.add_argument("--results", default="results/default")
    ap.add_argument("--configfile", nargs="*", default=[], help="preset files over config/config.yaml")
    ap.add_argument("--factor", type=int, default=4)
    ap.add_argument("--stride", type=int, default=None, help="also train on every n-th frame")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "src"))
    block, seed = system_block(a.system, a.mapping, a.variant, a.configfile)
    dataset = str(Path(a.results) / a.system / "cg" / f"{a.mapping}.h5")
    base, variant, train = block["model"], block["variants"][a.variant], block["train"]
    runs = [("preset", train), (f"{a.factor}x the epochs", {**train, "epochs": train["epochs"] * a.factor})]
    if a.stride:
        runs.append((f"stride {a.stride}", {**train, "stride": a.stride}))
    m = machine()
    print(f"# {m['cpu']}, {m['cores']} cores; {load_note()}")
    print(f"# {a.system} {a.mapping} {a.variant}: {train['epochs']} epochs, batch {train['batch_size']}, "
          f"lr {train['lr']}, stride {train['stride']}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pending = [(label, cfg, start(dataset, [base, variant, cfg, seed], Path(tmp) / str(i)))
                   for i, (label, cfg) in enumerate(runs[:2])]
        rows += [(label, cfg, *result(p)) for label, cfg, p in pending]
        for i, (label, cfg) in enumerate(runs[2:], start=2):
            rows.append((label, cfg, *result(start(dataset, [base, variant, cfg, seed], Path(tmp) / str(i)))))
    ref = rows[0][3]
    print(f"{'run':20s} {'epochs':>6s} {'train frames':>12s} {'wall (s)':>9s} "
          f"{'test RMSE (meV/A)':>18s} {'change':>8s}")
    for label, cfg, wall, rmse, n in rows:
        print(f"{label:20s} {cfg['epochs']:6d} {n:12d} {wall:9.1f} {rmse:18.2f} {100 * (rmse / ref - 1):+7.2f}%")
    print(f"# {load_note()}")


if __name__ == "__main__":
    main()
