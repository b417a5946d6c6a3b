"""Backbone analysis of CG peptides, per trajectory source: the Ramachandran map P(phi, psi),
its free energy, basin populations, symmetry scores and chirality (the functions of
:mod:`.ramachandran`, applied to a mapped reference or to a model's MD chains).

What a result holds (``ramachandran.csv`` + ``ramachandran.json``):

- the map on the periodic grid of ``analysis.ramachandran.bin_deg`` (bin centres in degrees,
  probability per bin, F = -k_B T ln P in kJ/mol and kcal/mol, minimum 0, empty bins blank);
- ``basins``: the fractions in the config's rectangles (``analysis.ramachandran.basins``);
- ``point_symmetry`` (overlap of P with P(-phi, -psi)) and ``reversal_symmetry`` (overlap of
  P with P(psi, phi)); both 1 for a perfectly symmetric map, and a finite sample of a
  symmetric map scores a little below 1;
- ``d_form_fraction``: fraction of samples whose improper N-CA-CB-C has the D sign, where the
  mapping keeps N, CA, CB and C (null otherwise: a Core model has no stereocentre to invert);
- for a model: ``jensen_shannon_nats`` and ``overlap`` against the same mapping's reference map,
  pooled over stable frames of all chains, and per chain (mean and sd: the spread).

A model's frames count up to each chain's stable time (its ``run.json`` from the shared MLP
analysis, :mod:`.mlp_runs`), as every other analysis of the study.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..cgdata import CGDataset
from ..io import write_json
from ..units import KJ_TO_KCAL
from . import ramachandran as rama

CSV_COLUMNS = ["phi_deg", "psi_deg", "probability", "free_energy_kJ_mol", "free_energy_kcal_mol"]


def angles(positions, bead_names) -> dict:
    """phi, psi (F, R) and the chirality improper (F, R') in degrees of free-space positions."""
    phi, psi, labels = rama.phi_psi(positions, bead_names)
    if phi.shape[-1] == 0:
        raise ValueError("the mapping has no residue with both phi (C-N-CA-C) and psi (N-CA-C-N) beads; "
                         "a Ramachandran analysis needs beads named N, CA and C (and the caps' C and N)")
    imp, imp_labels = rama.chirality_impropers(positions, bead_names)
    return {"phi": phi, "psi": psi, "residues": labels, "improper": imp, "improper_residues": imp_labels}


def dataset_angles(h5: str, stride: int = 1, stop: int | None = None) -> dict:
    """:func:`angles` of a CG dataset (free space), frames [0, stop) every ``stride``."""
    with CGDataset(h5) as ds:
        if ds.periodic:
            raise ValueError(f"{h5}: backbone angles are computed in free space; this dataset is periodic")
        x = ds.read("positions", 0, stop, stride).astype(np.float64)
        names = list(ds.topology.bead_names)
    return angles(x, names)


def map_frame(P, edges, temperature_K: float) -> pd.DataFrame:
    """The long-format table of a map: bin centres, probability and free energy."""
    c = 0.5 * (edges[1:] + edges[:-1])
    F = rama.free_energy(P, temperature_K) if np.any(P > 0) else np.full(P.shape, np.nan)
    phi, psi = np.meshgrid(c, c, indexing="ij")
    return pd.DataFrame({"phi_deg": phi.ravel(), "psi_deg": psi.ravel(), "probability": P.ravel(),
                         "free_energy_kJ_mol": F.ravel(), "free_energy_kcal_mol": F.ravel() * KJ_TO_KCAL})


def read_map(csv: str) -> tuple[np.ndarray, np.ndarray]:
    """(P (n, n), edges) of a ``ramachandran.csv``."""
    df = pd.read_csv(csv)
    c = np.unique(df["phi_deg"].to_numpy())
    n = len(c)
    w = 360.0 / n
    P = df.sort_values(["phi_deg", "psi_deg"])["probability"].to_numpy().reshape(n, n)
    return P, rama.periodic_edges(w)


def summary(a: dict, cfg: dict) -> dict:
    """Scores of one sample of angles (pooled frames and residues)."""
    P, _ = rama.ramachandran_histogram(a["phi"], a["psi"], cfg["bin_deg"])
    basins = {k: [tuple(r) for r in v] for k, v in cfg["basins"].items()}
    out = {"n_samples": int(a["phi"].size), "residues": list(a["residues"]),
           "basins": rama.basin_populations(a["phi"], a["psi"], basins),
           "point_symmetry": rama.point_symmetry(P), "reversal_symmetry": rama.reversal_symmetry(P),
           "d_form_fraction": (rama.d_form_fraction(a["improper"]) if a["improper"].size else None)}
    return out


def _write(out_csv: str, out_json: str, P, edges, temperature_K: float, info: dict) -> None:
    from .aggregate import write_csv

    write_csv(out_csv, map_frame(P, edges, temperature_K))
    write_json(out_json, info)


def reference_ramachandran(h5: str, cfg: dict, temperature_K: float, out_csv: str, out_json: str,
                           stride: int = 1) -> dict:
    """The Ramachandran map and scores of a mapped reference (``cfg``: analysis.ramachandran)."""
    a = dataset_angles(h5, stride)
    P, edges = rama.ramachandran_histogram(a["phi"], a["psi"], cfg["bin_deg"])
    info = {"source": "reference", "dataset": str(h5), "bin_deg": cfg["bin_deg"], **summary(a, cfg),
            "definitions": DEFINITIONS}
    _write(out_csv, out_json, P, edges, temperature_K, info)
    return info


DEFINITIONS = {
    "phi": "C(i-1)-N-CA-C, psi: N-CA-C-N(i+1), IUPAC sign (= mdtraj), degrees",
    "point_symmetry": "overlap sum min(p, p') of P and P(-phi, -psi), in [0, 1]",
    "reversal_symmetry": "overlap of P and P(psi, phi) (the map of the reversed chain), in [0, 1]",
    "d_form_fraction": "fraction of samples with improper N-CA-CB-C < 0 (L alanine: about +123 deg)",
    "jensen_shannon_nats": "JSD of the model's and the reference's P on the same grid, nats, in [0, ln 2]",
    "overlap": "sum min(p, q) of the model's and the reference's P, in [0, 1]",
}


def model_ramachandran(traj_h5: str, runs_dir: str, template_h5: str, reference_csv: str, cfg: dict,
                       temperature_K: float, out_csv: str, out_json: str, stride: int = 1, log=print) -> dict:
    """Pooled map of a model's chains (stable frames only) and its distance to the reference.

    ``template_h5`` is the mapped reference the model was trained on (its bead names)."""
    import h5py

    from .mlp_runs import chain_stable_frames

    ref_P, edges = read_map(reference_csv)
    with CGDataset(template_h5) as ds:
        names = list(ds.topology.bead_names)
    with h5py.File(traj_h5, "r") as f:
        time = f["time"][()]
        n_chains = f["positions"].shape[1]
        per_chain, pooled = [], []
        for k in range(n_chains):
            n = chain_stable_frames(runs_dir, k, time)
            if n == 0:
                per_chain.append({"run": k, "frames": 0})
                continue
            x = f["positions"][:n:stride, k].astype(np.float64)
            a = angles(x, names)
            P, _ = rama.ramachandran_histogram(a["phi"], a["psi"], cfg["bin_deg"])
            per_chain.append({"run": k, "frames": len(x), "jensen_shannon_nats": rama.jensen_shannon(P, ref_P),
                              "overlap": rama.overlap(P, ref_P), **summary(a, cfg)})
            pooled.append(a)
    if not pooled:
        info = {"source": "model", "n_chains": n_chains, "stable_chains": 0, "n_samples": 0, "runs": per_chain,
                "note": "no stable frame in any chain", "definitions": DEFINITIONS}
        _write(out_csv, out_json, np.zeros_like(ref_P), edges, temperature_K, info)
        log("[ramachandran] no stable frame")
        return info
    a = {"phi": np.concatenate([p["phi"] for p in pooled]), "psi": np.concatenate([p["psi"] for p in pooled]),
         "improper": np.concatenate([p["improper"] for p in pooled]), "residues": pooled[0]["residues"]}
    P, _ = rama.ramachandran_histogram(a["phi"], a["psi"], cfg["bin_deg"])
    good = [r for r in per_chain if r.get("frames")]

    def spread(key):
        v = np.array([r[key] for r in good], float)
        return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else None, "n": len(v)}

    info = {"source": "model", "trajectory": str(traj_h5), "bin_deg": cfg["bin_deg"], "n_chains": n_chains,
            "stable_chains": len(good), **summary(a, cfg),
            "jensen_shannon_nats": rama.jensen_shannon(P, ref_P), "overlap": rama.overlap(P, ref_P),
            "per_chain": {"jensen_shannon_nats": spread("jensen_shannon_nats"), "overlap": spread("overlap")},
            "runs": per_chain, "definitions": DEFINITIONS}
    _write(out_csv, out_json, P, edges, temperature_K, info)
    log(f"[ramachandran] {len(good)}/{n_chains} chains, {info['n_samples']} samples, "
        f"JSD {info['jensen_shannon_nats']:.3f} nats, point symmetry {info['point_symmetry']:.2f}")
    return info
