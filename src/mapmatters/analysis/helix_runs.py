"""Helix analysis of CG polyalanine, per trajectory source (the functions of :mod:`.helix`
applied to a mapped reference or to a model's MD chains; STUDY.md section 6, finding 6).

What a result holds:

- ``helix.csv``: one row per frame (a model: per stable frame of each chain, with its ``run``):
  ``q_hel`` (dimensionless), ``chi_hel_nm3``, ``rg_nm`` (of the CA beads);
- ``helix.json``: means and standard deviations of those, the right- / left-handed helical
  fractions (thresholds ``analysis.helix.q_min`` and ``chi_min_nm3``), the mirror-symmetry score of
  P(chi_hel, Q_hel) on the authors' grid, and for a model the stable fraction (stable frames /
  all frames, pooled over chains) and the same scores per chain.

A model's frames count up to each chain's stable time (its ``run.json`` from the shared MLP
analysis, :mod:`.mlp_runs`), as every other analysis of the study.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..cgdata import CGDataset
from ..io import write_json
from . import helix

COLUMNS = ["frame", "time_ps", "q_hel", "chi_hel_nm3", "rg_nm"]

DEFINITIONS = {
    "q_hel": "(1/N_hel) sum_i exp(-(|CA_i+3 - CA_i| - 0.5 nm)^2 / (2 x 0.02 nm^2)), 0 coil .. 1 alpha helix",
    "chi_hel_nm3": "(1/N_hel) sum_i v_i . (v_i+1 x v_i+2), v_i = CA_i+1 - CA_i; > 0 right-handed",
    "rg_nm": "radius of gyration of the CA beads (equal weights), nm",
    "right_fraction": "fraction of frames with Q_hel > q_min and chi_hel > chi_min_nm3",
    "left_fraction": "fraction of frames with Q_hel > q_min and chi_hel < -chi_min_nm3",
    "mirror_symmetry": "overlap of P(chi_hel, Q_hel) and P(-chi_hel, Q_hel) on the authors' grid, in [0, 1]",
    "stable_fraction": "stable frames / all frames of the model's chains (molecular stability criterion)",
}


def series(positions, bead_names) -> pd.DataFrame:
    """Per-frame Q_hel, chi_hel and R_g of the CA beads of free-space positions (F, N, 3) in nm.

    R_g is taken over the CA trace with equal weights, so that every mapping (and the reference)
    is measured on the same beads."""
    ca = helix.ca_indices(bead_names)
    x = np.asarray(positions, dtype=np.float64)[:, ca]
    return pd.DataFrame({"q_hel": helix.helicity(x), "chi_hel_nm3": helix.handedness(x),
                         "rg_nm": helix.radius_of_gyration(x)})


def summary(df: pd.DataFrame, cfg: dict) -> dict:
    """Scores of a sample of frames (``cfg``: analysis.helix)."""
    if len(df) == 0:
        return {"n_frames": 0}
    q, c = df["q_hel"].to_numpy(), df["chi_hel_nm3"].to_numpy()
    right, left = helix.helical_fractions(c, q, cfg["q_min"], cfg["chi_min_nm3"])
    try:
        P, ce, _ = helix.helix_histogram(c, q, cfg["bins"], cfg["chi_max_nm3"])
        mirror = helix.mirror_symmetry(P, ce)
    except ValueError:          # every sample outside the grid
        mirror = None
    out = {"n_frames": int(len(df)), "right_fraction": right, "left_fraction": left, "mirror_symmetry": mirror}
    for col in ("q_hel", "chi_hel_nm3", "rg_nm"):
        v = df[col].to_numpy()
        out[col] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else None}
    return out


def dataset_series(h5: str, stride: int = 1) -> pd.DataFrame:
    """:func:`series` of a (free-space) CG dataset, every ``stride``-th frame, with frame and time."""
    with CGDataset(h5) as ds:
        if ds.periodic:
            raise ValueError(f"{h5}: the helix analysis is computed in free space; this dataset is periodic")
        names = list(ds.topology.bead_names)
        parts = []
        for start in range(0, ds.n_frames, 2000 * stride):
            stop = min(ds.n_frames, start + 2000 * stride)
            df = series(ds.read("positions", start, stop, stride), names)
            df.insert(0, "time_ps", ds.read("time", start, stop, stride))
            df.insert(0, "frame", np.arange(start, stop, stride))
            parts.append(df)
    return pd.concat(parts, ignore_index=True)[COLUMNS] if parts else pd.DataFrame(columns=COLUMNS)


def reference_helix(h5: str, cfg: dict, out_csv: str, out_json: str, stride: int = 1) -> dict:
    """Per-frame helix series and its scores for a mapped reference."""
    from .aggregate import write_csv

    df = dataset_series(h5, stride)
    info = {"source": "reference", "dataset": str(h5), "stride": stride, "thresholds": _thresholds(cfg),
            **summary(df, cfg), "definitions": DEFINITIONS}
    write_csv(out_csv, df)
    write_json(out_json, info)
    return info


def model_helix(traj_h5: str, runs_dir: str, template_h5: str, cfg: dict, out_csv: str, out_json: str,
                stride: int = 1, log=print) -> dict:
    """Helix series of a model's chains (stable frames only), pooled and per chain."""
    import h5py

    from .aggregate import write_csv
    from .mlp_runs import chain_stable_frames

    with CGDataset(template_h5) as ds:
        names = list(ds.topology.bead_names)
    with h5py.File(traj_h5, "r") as f:
        time = f["time"][()]
        n_chains = f["positions"].shape[1]
        parts, per_chain = [], []
        for k in range(n_chains):
            n = chain_stable_frames(runs_dir, k, time)
            if n == 0:
                per_chain.append({"run": k, "n_frames": 0})
                continue
            df = series(f["positions"][:n:stride, k], names)
            df.insert(0, "time_ps", time[:n:stride])
            df.insert(0, "frame", np.arange(0, n, stride))
            df.insert(0, "run", k)
            parts.append(df)
            per_chain.append({"run": k, **summary(df, cfg)})
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["run", *COLUMNS])
    total = n_chains * len(time[::stride])
    info = {"source": "model", "trajectory": str(traj_h5), "stride": stride, "thresholds": _thresholds(cfg),
            "n_chains": n_chains, "stable_chains": sum(1 for r in per_chain if r["n_frames"]),
            "stable_fraction": float(len(df) / total) if total else None, **summary(df, cfg),
            "runs": per_chain, "definitions": DEFINITIONS}
    write_csv(out_csv, df)
    write_json(out_json, info)
    log(f"[helix] {info['stable_chains']}/{n_chains} chains, {len(df)} stable frames, "
        f"right {info.get('right_fraction')}, left {info.get('left_fraction')}")
    return info


def _thresholds(cfg: dict) -> dict:
    return {k: cfg[k] for k in ("q_min", "chi_min_nm3", "bins", "chi_max_nm3")}


def table(entries: list[dict]) -> pd.DataFrame:
    """One row per (mapping, source): the scores of each ``helix.json`` (entries: system, mapping,
    source, json; a model's entry may add ``summary``, its ``summary.json`` from the shared MLP
    analysis, for the bond-permutation rates per entry and ns, mean over chains; a reference entry
    may add ``permutation``, the mapped reference's permutation summary). Two rates: species-aware
    and species-blind (``any_species``; see :mod:`.permutation`)."""
    rows = []
    for e in entries:
        d = json.loads(Path(e["json"]).read_text())

        def mean(key, d=d):
            return (d.get(key) or {}).get("mean")

        perm = perm_any = None
        if e.get("summary"):
            s = json.loads(Path(e["summary"]).read_text()).get("permutation") or {}
            perm = (s.get("events_per_entry_per_ns") or {}).get("mean")
            perm_any = ((s.get("any_species") or {}).get("events_per_entry_per_ns") or {}).get("mean")
        elif e.get("permutation"):
            s = json.loads(Path(e["permutation"]).read_text())
            perm = s.get("events_per_entry_per_ns")
            perm_any = (s.get("any_species") or {}).get("events_per_entry_per_ns")
        rows.append({"system": e["system"], "mapping": e["mapping"], "source": e["source"],
                     "n_frames": d.get("n_frames", 0), "chi_hel_mean_nm3": mean("chi_hel_nm3"),
                     "q_hel_mean": mean("q_hel"), "right_fraction": d.get("right_fraction"),
                     "left_fraction": d.get("left_fraction"), "mirror_symmetry": d.get("mirror_symmetry"),
                     "rg_mean_nm": mean("rg_nm"),
                     "stable_fraction": d.get("stable_fraction", 1.0 if e["source"] == "reference" else None),
                     "permutation_events_per_entry_per_ns": perm,
                     "permutation_any_species_events_per_entry_per_ns": perm_any})
    return pd.DataFrame(rows)
