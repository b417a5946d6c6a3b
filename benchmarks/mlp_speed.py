#!/usr/bin/env python
"""Old vs new path of MLP training and JAX-MD, same model and data, as ratios.

    PYTHONPATH=src .venv/bin/python benchmarks/mlp_speed.py \
        --dataset results/ci/hexane/cg/three-site.h5 [--size default] [--flags legacy default]

Paths (same model config, same initial parameters, same frames):

- training, old: chemtrain ForceMatching with the neighbour list rebuilt inside every step
  (capacity = max edges x ``capacity_margin`` 1.2); new: edge indices precomputed once per
  frame (exact capacity), ``mapmatters.mlp.train.Setup(precompute_neighbors=True)``.
- tensor products: old: e3j's own evaluation (gather, multiply, scatter-add); new: as the
  workflow traces them (``mapmatters.mlp.tensor_product``: static slices, in training and in
  MD). The same parameters either way.
  Frames/s over a whole epoch after a compiling one (chemtrain's loop, validation included).
- MD, old: ``--chains`` vmapped Langevin chains, list rebuilt every step; new: skin
  ``--skin`` nm, rebuilt only when some bead of some chain has moved skin/2, cut down to
  r_cut for the model; neighbour slots per pair: old 1.5 (the engine's default), new
  ``--capacity-margin``. The new path's skin and slots default to the workflow's (hexane's
  ``md.skin`` and ``md.capacity_margin`` in ``config/config.yaml``). Steps/s from
  ``mapmatters.simulate.md.run`` (compiled chunks only).

Each XLA flag set (``--flags``; ``legacy`` = the old config default
``--xla_cpu_use_fusion_emitters=false --xla_cpu_use_thunk_runtime=false``; ``fusion-off`` =
the first alone; ``default`` = XLA's defaults) runs in its own subprocess (flags must be set
before jax is imported), once per heap setting (``--heap``: ``free`` = glibc's defaults, where
XLA's large scratch blocks are mapped and unmapped on every call; ``keep`` = the workflow's
``mlp_runtime.keep_heap``, ``mapmatters.mlp.runtime.keep_heap``); threads 1 and pinned to one
free CPU as in the workflow (``--no-pin``: unpinned, so XLA's pool spreads over every core, like
a job alone on the machine). Prints the machine, the load average (a warning when other work
keeps above 0.5 per core busy) and a table with ratios new/old; and the ratio of the last
worker's new path to the first worker's old path (with the defaults: today's workflow against
the code before this work, legacy flags and glibc's heap).
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LEGACY = "--xla_cpu_use_fusion_emitters=false --xla_cpu_use_thunk_runtime=false"
#: names for flag sets on the command line (argparse cannot take values starting with --)
FLAG_SETS = {"legacy": LEGACY, "fusion-off": "--xla_cpu_use_fusion_emitters=false",
             "default": ""}


def machine() -> dict:
    cpu = "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count()}


def load_note(own: float = 0.0, load: float | None = None) -> str:
    """The 1-minute load average, with a warning when what is not this benchmark's own work
    (``own`` cores busy) exceeds 0.5 per core."""
    la = os.getloadavg()[0] if load is None else load
    cores = os.cpu_count() or 1
    per = max(la - own, 0.0) / cores
    mine = f", {own:g} of it this benchmark's" if own else ""
    warn = " WARNING: load above 0.5 per core, timings are shared with other work" \
        if per > 0.5 else ""
    return f"load average {la:.2f}{mine} ({per:.2f} other per core){warn}"


def workflow_md_block(system: str = "hexane") -> dict:
    """The ``md`` block of the workflow's MLP runs of ``system`` (``config/config.yaml``, the
    default preset), as written there."""
    import yaml

    return dict(yaml.safe_load((ROOT / "config/config.yaml").read_text())["mlp"][system]["md"])


def workflow_md_list(system: str = "hexane") -> dict:
    """The neighbour-list settings of the workflow's MLP runs of ``system`` (``skin`` nm and
    ``capacity_margin`` slots per pair), read from ``config/config.yaml`` through the engine's
    ``loop_config`` (its defaults where the config sets none)."""
    from mapmatters.simulate.md import loop_config

    cfg = loop_config(workflow_md_block(system))
    return {"skin": cfg["skin"], "capacity_margin": cfg["capacity_margin"]}


def _cli(key: str, value) -> tuple[str, ...]:
    """One parsed option back as command-line words for the worker (booleans as --x / --no-x)."""
    name = key.replace("_", "-")
    if isinstance(value, bool):
        return (f"--{name}" if value else f"--no-{name}",)
    return (f"--{name}", str(value))


def _worker(a) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(HERE))
    from mapmatters.mlp import runtime
    runtime.configure(a.xla, 1, pin_cpus=a.pin, keep_freed=a.keep_heap)
    import contextlib
    import io

    from profile_mlp import benchmark_case

    from mapmatters.mlp import tensor_product as TP
    from mapmatters.mlp.train import Setup, _optimizer, _trainer_class
    from mapmatters.simulate import md as MD

    R, sub, r_cut, mcfg, cfg = benchmark_case(a)
    res = {"r_cut": r_cut, "beads": int(R.shape[1]), "xla": a.xla, "keep_heap": a.keep_heap}
    su = {}
    for path, pre, tp in (("old", False, "e3j"), ("new", True, TP.TRAINING)):
        su[path] = s = Setup(sub, mcfg, cfg, log=lambda m: None, precompute_neighbors=pre,
                             tensor_products=tp)
        n_train = len(s.splits["training"]["R"])
        spe = n_train // a.batch
        opt, _ = _optimizer(cfg, spe)
        with tempfile.TemporaryDirectory() as tmp:
            tr = _trainer_class()(s.init_params, opt, s.model.energy_fn_template, s.nbrs,
                                  batch_per_device=a.batch, batch_cache=1, log_file=None,
                                  checkpoint_path=tmp, full_checkpoint=False)
            tr.set_arrays(s.splits, a.batch, 1)
            with contextlib.redirect_stdout(io.StringIO()):
                tr.train(1)
                t0 = time.perf_counter()
                tr.train(a.epochs)
                dt = time.perf_counter() - t0
        res[f"train_{path}"] = a.epochs * spe * a.batch / dt
        res[f"capacity_{path}"] = s.capacity
        res[f"train_loss_{path}"] = float(tr.train_losses[-1])
    mdcfg = {"n_frames": 2 + a.md_chunks * 2, "frames_per_chunk": 2,
             "steps_per_frame": a.md_steps // 2}
    for path, skin, tp, margin in (("old", 0.0, "e3j", MD.MD_DEFAULTS["capacity_margin"]),
                                   ("new", a.skin, TP.MD, a.capacity_margin)):
        s = su[path]
        model = dataclasses.replace(s.model, tensor_products=tp)
        system = MD.system_from_model(model, s.init_params, sub["masses"], skin=skin)
        with tempfile.TemporaryDirectory() as tmp:
            out = MD.run(system, R[:a.chains], Path(tmp) / "md.h5", {**mdcfg, "capacity_margin": margin},
                         seeds=range(a.chains), log=lambda m: None)
        res[f"md_{path}"] = out["speed"]["steps_per_s"]
        res[f"md_blown_up_{path}"] = out["blowup"]["n_blown_up"]
    res["load"] = os.getloadavg()[0]
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default=str(ROOT / "results/ci/hexane/cg/three-site.h5"))
    ap.add_argument("--size", choices=["default", "paper"], default="default")
    ap.add_argument("--n-avg", type=float, default=20.0)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--epoch-frames", type=int, default=40)
    ap.add_argument("--epochs", type=int, default=1, help="timed epochs")
    ap.add_argument("--chains", type=int, default=3)
    ap.add_argument("--skin", type=float, default=None,
                    help="nm, new MD path (default: the workflow's hexane md.skin)")
    ap.add_argument("--capacity-margin", type=float, default=None,
                    help="neighbour slots per pair, new MD path (default: the workflow's hexane "
                         "md.capacity_margin; the old path has the engine's default)")
    ap.add_argument("--md-steps", type=int, default=100, help="steps per timed chunk")
    ap.add_argument("--md-chunks", type=int, default=2, help="timed chunks")
    ap.add_argument("--flags", nargs="+", default=["legacy", "default"],
                    help="flag sets: " + ", ".join(FLAG_SETS))
    ap.add_argument("--heap", nargs="+", choices=["free", "keep"], default=["free", "keep"],
                    help="glibc heap settings, one worker each per flag set: free (glibc's "
                         "defaults) or keep (mlp_runtime.keep_heap)")
    ap.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                    help="pin the worker to one free CPU, as the workflow's MLP jobs are "
                         "(mlp_runtime.pin_cpus); --no-pin lets XLA's thread pool spread")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--xla", default="", help=argparse.SUPPRESS)
    ap.add_argument("--keep-heap", action=argparse.BooleanOptionalAction, default=True,
                    help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.skin is None or a.capacity_margin is None:   # the parent; its workers get both
        wf = workflow_md_list()
        a.skin = wf["skin"] if a.skin is None else a.skin
        a.capacity_margin = wf["capacity_margin"] if a.capacity_margin is None else a.capacity_margin
    if a.worker:
        print("RESULT " + json.dumps(_worker(a)), flush=True)
        return 0

    m = machine()
    print(f"# {m['cpu']}, {m['cores']} cores; {load_note()}", flush=True)
    rows = []
    for fl, heap in itertools.product(a.flags, a.heap):
        xla = FLAG_SETS.get(fl, fl)
        opts = dict(vars(a), keep_heap=heap == "keep")
        args = [sys.executable, __file__, "--worker", f"--xla={xla}"] + \
            [x for k, v in opts.items() if k not in ("worker", "xla", "flags", "heap")
             for x in _cli(k, v)]
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        env.pop("XLA_FLAGS", None)
        p = subprocess.run(args, capture_output=True, text=True, env=env)
        line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
        if p.returncode or not line:
            print(p.stdout[-2000:], p.stderr[-4000:])
            raise SystemExit(f"worker with flags {xla!r} failed")
        r = json.loads(line[0][7:])
        r["flags"], r["heap"] = fl, heap
        rows.append(r)
        print(f"# flags {fl}, heap {heap}: done; {load_note(1.0 if a.pin else 0.0, r['load'])}", flush=True)
    r0 = rows[0]
    print(f"# {a.size} MACE, {r0['beads']} beads, r_cut {r0['r_cut']} nm, batch {a.batch}, "
          f"{a.chains} MD chains, skin {a.skin} nm, slots per pair {a.capacity_margin}, threads 1")
    pin = "pinned to one CPU" if a.pin else "unpinned (XLA's pool may use every core)"
    print(f"# worker {pin}")
    print(f"{'XLA flags':24s} {'heap':5s} {'train old':>10s} {'train new':>10s} {'ratio':>6s} "
          f"{'MD old':>8s} {'MD new':>8s} {'ratio':>6s}  (frames/s, steps/s)")
    for r in rows:
        print(f"{r['flags'][:24]:24s} {r['heap']:5s} {r['train_old']:10.2f} {r['train_new']:10.2f} "
              f"{r['train_new'] / r['train_old']:6.2f} {r['md_old']:8.2f} {r['md_new']:8.2f} "
              f"{r['md_new'] / r['md_old']:6.2f}")
    last = rows[-1]
    print(f"# new path with flags {last['flags']!r}, heap {last['heap']} vs old path with flags "
          f"{r0['flags']!r}, heap {r0['heap']}: "
          f"training x{last['train_new'] / r0['train_old']:.2f}, "
          f"MD x{last['md_new'] / r0['md_old']:.2f}")
    print(f"# capacities old/new (training): {r0['capacity_old']}/{r0['capacity_new']}; "
          f"last train loss old/new {r0['train_loss_old']:.4f}/{r0['train_loss_new']:.4f}")
    print(f"# MD chains blown up (random weights; a blown-up chain would skew the timing) "
          f"old/new: {r0['md_blown_up_old']}/{r0['md_blown_up_new']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
