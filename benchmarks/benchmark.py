#!/usr/bin/env python
"""Speed of the stages that bound the study, on this machine.

    .venv/bin/python benchmarks/benchmark.py [--results results/ci] [--ps 20]
    .venv/bin/python benchmarks/benchmark.py --mlp --results results/default   # MLP training

Needs a finished run of the workflow at some preset (the ci preset is enough). Prints, with
the machine named: GROMACS reference MD (ns/day), LAMMPS classical CG MD per mapping
(ns/day, steps/s), mapping throughput (frames/s), RDF throughput (frames/s), and the peak
memory of each. Every number comes from a run made here and now; nothing is hard-coded.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {platform.platform()}"


def peak_child_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def peak_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_gromacs(results: Path, ps: float, threads: int) -> dict:
    from mapmatters.reference import gromacs, mdp

    ref = results / "hexane/reference"
    work = Path(tempfile.mkdtemp(prefix="bench_gmx_"))
    steps = int(round(ps / 0.001))
    (work / "b.mdp").write_text(mdp.nvt_mdp(cutoff_nm=1.2, dt_ps=0.001, nsteps=steps, temperature_K=300,
                                            tau_t_ps=1.0, output_every_steps=200, seed=1,
                                            generate_velocities=False))
    log = work / "log"
    gromacs.grompp(str(work / "b.mdp"), str(ref / "equil.gro"), str(ref / "topol.top"), str(work / "b.tpr"),
                   log=log, checkpoint=str(ref / "equil.cpt"))
    t0 = time.perf_counter()
    gromacs.mdrun(str(work / "b"), threads=threads, log=log)
    wall = time.perf_counter() - t0
    perf = [ln for ln in (work / "b.log").read_text().splitlines() if ln.startswith("Performance:")]
    ns_day = float(perf[-1].split()[1]) if perf else float("nan")
    shutil.rmtree(work, ignore_errors=True)
    return {"stage": "GROMACS reference MD (hexane, 2000 atoms, 1 fs)", "threads": threads, "ps": ps,
            "ns_per_day": ns_day, "steps_per_s": steps / wall, "wall_s": wall, "peak_mem_mb": peak_child_mb()}


def bench_lammps(results: Path, mapping: str, ps: float) -> dict:
    from mapmatters.classical import LammpsSettings, simulate

    work = Path(tempfile.mkdtemp(prefix=f"bench_lmp_{mapping}_"))
    s = simulate(results / f"hexane/cg/{mapping}.h5", results / f"hexane/classical/{mapping}/tables.json",
                 work, LammpsSettings(length_ps=ps, seed=7), frame=-1)
    shutil.rmtree(work, ignore_errors=True)
    steps = ps / 0.002
    return {"stage": f"LAMMPS classical CG MD ({mapping}, 2 fs, 1 core)", "ps": ps,
            "ns_per_day": s["ns_per_day_lammps"], "ns_per_day_wall": s["ns_per_day_wall"],
            "steps_per_s": steps / s["wall_s"], "wall_s": s["wall_s"], "peak_mem_mb": peak_child_mb()}


def bench_mapping(results: Path, mapping: str) -> dict:
    from mapmatters.mapping import load_mappings
    from mapmatters.mapping.trajectory import map_trajectory
    from mapmatters.system import load_system

    root = Path(__file__).resolve().parents[1]
    system = load_system(root / "config/systems/hexane.yaml")
    spec = load_mappings(system)[mapping]
    ref = results / "hexane/reference"
    out = Path(tempfile.mkdtemp(prefix="bench_map_")) / "x.h5"
    t0 = time.perf_counter()
    st = map_trajectory(str(ref / "production.tpr"), str(ref / "production.trr"), spec, molecule_type="HEX",
                        out=str(out), system="hexane", log=None)
    wall = time.perf_counter() - t0
    shutil.rmtree(out.parent, ignore_errors=True)
    return {"stage": f"mapping .trr -> CG dataset ({mapping})", "frames": st["n_frames"],
            "frames_per_s": st["n_frames"] / wall, "wall_s": wall, "peak_mem_mb": peak_self_mb()}


def bench_rdf(results: Path, mapping: str) -> dict:
    from mapmatters.analysis import compute_rdfs
    from mapmatters.cgdata import CGDataset

    with CGDataset(results / f"hexane/cg/{mapping}.h5") as ds:
        t0 = time.perf_counter()
        compute_rdfs(ds)
        wall = time.perf_counter() - t0
        n = ds.n_frames
    return {"stage": f"RDFs, all species pairs ({mapping})", "frames": n, "frames_per_s": n / wall,
            "wall_s": wall, "peak_mem_mb": peak_self_mb()}


MLP_SIZES = {  # the default and paper presets' MACE (config/config.yaml, config/presets/paper.yaml)
    "default": {"hidden_irreps": "8x0e + 8x1o", "readout_irreps": "8x0e", "max_ell": 1,
                "radial_mlp_hidden": [16, 16], "r_cut": 0.7},
    "paper": {"hidden_irreps": "32x0e + 32x1o", "readout_irreps": "16x0e", "max_ell": 3,
              "radial_mlp_hidden": [64, 64, 64], "r_cut": 0.5},
}


def bench_mlp_training(results: Path, mapping: str, size: str, batch: int, frames: int) -> dict:
    """chemtrain force-matching throughput (frames/s) of the second epoch (the first compiles)."""
    from mapmatters.mlp.train import load_frames, train

    data = load_frames(results / f"hexane/cg/{mapping}.h5", max_frames=frames)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        train(data, tmp, {**MLP_SIZES[size], "num_layers": 2, "correlation": 2},
              {"epochs": 2, "batch_size": batch, "test_fraction": 0.0, "val_fraction": 0.0},
              log=lines.append)
        wall = time.perf_counter() - t0
    fps = [float(line.split("(")[-1].split()[0]) for line in lines if " epoch 2/2 " in line]
    return {"stage": f"MLP training ({size} MACE, {mapping}, batch {batch}, chemtrain)",
            "frames_per_s": fps[0] if fps else float("nan"), "wall_s_2_epochs": wall,
            "peak_mb": peak_self_mb()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default="results/ci", help="a finished results/<preset> folder")
    ap.add_argument("--ps", type=float, default=20.0, help="simulated ps per MD benchmark")
    ap.add_argument("--threads", type=int, default=2, help="GROMACS threads")
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    ap.add_argument("--mlp", action="store_true",
                    help="only the MLP training throughput (default and paper MACE sizes); MD speed "
                         "and the mace-torch comparison: benchmarks/mace_torch.py")
    ap.add_argument("--xla-flags", default="--xla_cpu_use_fusion_emitters=false --xla_cpu_use_thunk_runtime=false",
                    help="XLA_FLAGS for the MLP benchmark (config mlp_runtime.xla_flags)")
    a = ap.parse_args(argv)
    results = Path(a.results)
    if not (results / "hexane/reference/production.trr").exists():
        print(f"{results} has no finished hexane reference: run the workflow first "
              f"(e.g. make study PRESET=ci).", file=sys.stderr)
        return 2
    if a.mlp:
        from mapmatters.mlp.runtime import configure

        configure(a.xla_flags)
        rows = [bench_mlp_training(results, "three-site", "default", 4, 60),
                bench_mlp_training(results, "three-site", "paper", 8, 40)]
        _print(rows, a.json)
        return 0
    rows = [bench_gromacs(results, a.ps, a.threads)]
    for m in ("four-site", "three-site", "two-site"):
        if (results / f"hexane/classical/{m}/tables.json").exists():
            rows.append(bench_lammps(results, m, a.ps * 10))
    rows.append(bench_mapping(results, "three-site"))
    rows.append(bench_rdf(results, "three-site"))
    _print(rows, a.json)
    return 0


def _print(rows, json_path=None) -> None:
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    for r in rows:
        nums = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items() if k != "stage")
        print(f"{r['stage']}: {nums}")
    if json_path:
        Path(json_path).write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
