"""The shared analysis path for ML CG runs: every JAX-MD chain of one model becomes a CG
dataset (stable frames only) and goes through exactly the analyses of the reference and the
classical runs; then the runs are aggregated like the classical ones. Added for MLPs:

- the nearest-neighbour distance next to the bond observable (bond mappings: Figure 1 shows
  it for the two-site MLP, whose bond partners switch), and
- the bond-permutation series of :mod:`.permutation` (any mapping with bonds).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..cgdata import CGDataset, frames_to_dataset
from ..io import write_json
from .aggregate import aggregate_runs, mean_sd, summarise_model, write_csv
from .bonded import nearest_neighbour_histogram, observable_tuples, write_distribution_csv
from .permutation import dataset_permutation_summaries
from .pipeline import analyse_distributions, observable_width, run_stability, write_empty_distributions


def _box_frames(box_side, n_frames: int):
    """Per-frame (F, 3, 3) boxes of a constant orthorhombic box, or None in free space."""
    if not len(box_side):
        return None
    return np.broadcast_to(np.diag(np.asarray(box_side, float)), (n_frames, 3, 3))


def nn_histogram(ds, analysis: dict):
    """Nearest-neighbour distance of the first bead of each observable bond to any other bead of
    its partner's species (None unless the mapping's observable is a bond)."""
    if str(ds.attrs["observable_kind"]) != "bond":
        return None
    pairs = observable_tuples(ds)
    target = int(ds.topology.species[pairs[0, 1]])
    return nearest_neighbour_histogram(ds, target, observable_width("bond", analysis["bins"]),
                                       analysis["bond_r_max_nm"], beads=pairs[:, 0],
                                       stride=analysis["frame_stride"])


def analyse_run(ds_path: str, analysis: dict, rundir: Path, analyses=("bonded", "rdf", "permutation")) -> dict:
    """Distributions, nearest-neighbour histogram and permutations of one run's dataset."""
    info = analyse_distributions(ds_path, analysis, str(rundir / "bonded.csv"), str(rundir / "rdf.csv"), analyses)
    with CGDataset(ds_path) as ds:
        h = nn_histogram(ds, analysis)
        if h is not None:
            write_distribution_csv(rundir / "nn.csv", h)
        series, summary = (dataset_permutation_summaries(ds, stride=analysis["frame_stride"])
                           if "permutation" in analyses else (None, None))
    write_csv(rundir / "permutation.csv", series if series is not None else pd.DataFrame())
    info["permutation"] = summary
    return info


def _rates(perm: list[dict]) -> dict:
    """Mean and sd over runs of the permutation summaries' rates."""
    return {k: mean_sd(p[k] for p in perm if p.get(k) is not None)
            for k in ("events_per_entry_per_ns", "fraction_permuted_mean")}


def _flat(summary: dict) -> dict:
    """A run's permutation summary as one CSV row (species-blind keys prefixed ``any_species_``)."""
    row = {k: v for k, v in summary.items() if k != "any_species"}
    row.update({f"any_species_{k}": v for k, v in (summary.get("any_species") or {}).items()})
    return row


def n_stable_frames(time, stable_ps: float) -> int:
    """Frames of a chain before its stable time ``stable_ps`` (frame times ``time``, ps)."""
    return int(np.sum(np.asarray(time) < stable_ps - 1e-9))


def chain_stable_frames(runs_dir, k: int, time) -> int:
    """:func:`n_stable_frames` of chain ``k`` from the ``run{k}/run.json`` that :func:`analyse_md`
    wrote under ``runs_dir`` (the analyses that follow count the same frames)."""
    run = json.loads((Path(runs_dir) / f"run{k}" / "run.json").read_text())
    return n_stable_frames(time, run["stable_ps"])


def analyse_md(md_h5: str, md_json: str, template: str, reference_rdf: str, analysis: dict, *,
               system: dict, model: str, runs_dir: str, out: dict, log=print) -> dict:
    """Analyse every chain of ``md_h5``; write per-run files under ``runs_dir`` and the
    aggregated ``out`` files (keys json, bonded, rdf, errors, nn, permutation).

    Each chain's stable time comes from the system's stability criterion (the same function as
    for classical runs); its ``run.json`` is the engine's record with that ``stable_ps``."""
    import h5py

    record = json.loads(Path(md_json).read_text())
    runs_dir = Path(runs_dir)
    with h5py.File(md_h5, "r") as f:
        n_chains = f["positions"].shape[1]
        box = np.asarray(f.attrs["box"], float)
        time = f["time"][()]
        per_run = []
        for k, run in enumerate(record["runs"]):
            rundir = runs_dir / f"run{k}"
            rundir.mkdir(parents=True, exist_ok=True)
            positions = f["positions"][:, k]
            st = run_stability(system["stability"], template, time, kT=f["kT"][:, k], positions=positions,
                               box=_box_frames(box, len(time)), length_ps=run["length_ps"])
            write_json(rundir / "run.json", {**run, **st})
            n = n_stable_frames(time, st["stable_ps"])
            if n == 0:
                write_empty_distributions(template, str(rundir / "bonded.csv"), str(rundir / "rdf.csv"))
                per_run.append({"run": k, "frames": 0})
                log(f"[mlp_analysis] run {k}: no stable frame")
                continue
            tmp = rundir / "traj.h5"
            frames_to_dataset(positions[:n], time[:n], template, tmp, source=f"{md_h5} chain {k}",
                              box_side=box if len(box) else None)
            info = analyse_run(str(tmp), analysis, rundir, system["analyses"])
            tmp.unlink()
            per_run.append({"run": k, **info})
            log(f"[mlp_analysis] run {k}: {n} stable frames, permutations {info['permutation']}")
    k_all = range(n_chains)
    summary = summarise_model(model, [runs_dir / f"run{k}/run.json" for k in k_all],
                              [runs_dir / f"run{k}/bonded.csv" for k in k_all],
                              [runs_dir / f"run{k}/rdf.csv" for k in k_all], reference_rdf,
                              out_json=out["json"], out_bonded=out["bonded"], out_rdf=out["rdf"],
                              out_errors=out["errors"])
    nn = [pd.read_csv(runs_dir / f"run{k}/nn.csv") for k in k_all if (runs_dir / f"run{k}/nn.csv").exists()]
    if nn:
        write_csv(out["nn"], aggregate_runs(nn))
    else:
        write_csv(out["nn"], pd.DataFrame(columns=["distance_nm", "density_per_nm_mean", "density_per_nm_sd",
                                                   "n_runs"]))
    perm = [r["permutation"] for r in per_run if r.get("frames") and r.get("permutation")]
    rows = [{"run": r["run"], **_flat(r["permutation"])} for r in per_run if r.get("frames") and r.get("permutation")]
    write_csv(out["permutation"], pd.DataFrame(rows))
    summary["permutation"] = {
        **_rates(perm),
        "definition": "entry = (bead, species of its bond partners); permuted when the nearest bead of that "
                      "species is not a bond partner; event = switch to permuted between frames",
        "any_species": {**_rates([p["any_species"] for p in perm if p.get("any_species")]),
                        "definition": "the same with every bead one species: permuted when the nearest bead "
                                      "of any species is not a bond partner"},
    }
    summary["md"] = {k: record[k] for k in ("n_chains", "speed", "neighbour_reallocations", "runtime")}
    write_json(out["json"], summary)
    return summary
