"""Bond permutations: does a bead's nearest neighbour of its bonded partner's species stay its
topological partner?

An ML potential sees only geometry; when bonded and non-bonded distances overlap (two-site
hexane), a bead can swap its bond partner for a bead of another molecule. For every bead i
and every species s of its bond partners P(i, s), the bead is *permuted* in a frame when its
nearest bead of species s (any other bead, any molecule; minimum image) is not in P(i, s).
A *permutation event* is a switch from not permuted to permuted between consecutive frames.

``species_blind=True`` counts the same with every bead one species: a bead is permuted when its
nearest bead of any species is not one of its bond partners. A species-aware count cannot see a
switch in a map whose every bead has its own species (CA polyalanine with unique species, where
the nearest bead of a partner's species is always that partner); the species-blind one can (the
paper reports bond switches for unique species too).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .bonded import nearest_neighbour_distances


def partner_sets(species, bonds) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """[(target species s, beads i with a partner of species s, sorted keys i*N+j of partners)]."""
    species = np.asarray(species)
    n = len(species)
    bonds = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    ends = np.concatenate([bonds, bonds[:, ::-1]])          # (i, j) both directions
    out = []
    for s in np.unique(species[ends[:, 1]]) if len(ends) else []:
        sel = ends[species[ends[:, 1]] == s]
        out.append((int(s), np.unique(sel[:, 0]), np.unique(sel[:, 0] * n + sel[:, 1])))
    return out


def _species(species, species_blind: bool) -> np.ndarray:
    species = np.asarray(species)
    return np.zeros_like(species) if species_blind else species


def permuted(positions, box, species, bonds, *, species_blind: bool = False) -> np.ndarray:
    """(F, M) bool: entry m = (bead, partner species) permuted in frame f (see module doc)."""
    species = _species(species, species_blind)
    n = len(species)
    cols = []
    for s, beads, keys in partner_sets(species, bonds):
        _, idx = nearest_neighbour_distances(positions, box, species, s, beads, return_index=True)
        cols.append(~np.isin(beads[None, :] * n + idx, keys))
    if not cols:
        return np.zeros((np.asarray(positions).shape[0], 0), bool)
    return np.concatenate(cols, axis=1)


def permutation_series(positions, box, species, bonds, time_ps, *, species_blind: bool = False) -> pd.DataFrame:
    """Per frame: fraction of (bead, partner species) entries permuted, and cumulative events."""
    p = permuted(positions, box, species, bonds, species_blind=species_blind)
    events = np.zeros(len(p), dtype=np.int64)
    if len(p) > 1:
        events[1:] = np.sum(p[1:] & ~p[:-1], axis=1)
    frac = p.mean(axis=1) if p.shape[1] else np.zeros(len(p))
    return pd.DataFrame({"time_ps": np.asarray(time_ps, float), "fraction_permuted": frac,
                         "events_cumulative": np.cumsum(events), "n_entries": p.shape[1]})


def permutation_summary(series: pd.DataFrame) -> dict:
    """Events per entry per ns, mean fraction permuted, of one trajectory's series."""
    if len(series) == 0:
        return {"frames": 0, "events": 0, "events_per_entry_per_ns": None, "fraction_permuted_mean": None}
    span_ns = (series["time_ps"].iloc[-1] - series["time_ps"].iloc[0]) / 1000.0
    n = int(series["n_entries"].iloc[0])
    ev = int(series["events_cumulative"].iloc[-1])
    return {"frames": int(len(series)), "entries": n, "events": ev,
            "events_per_entry_per_ns": ev / (n * span_ns) if n and span_ns > 0 else None,
            "fraction_permuted_mean": float(series["fraction_permuted"].mean()),
            "fraction_permuted_last": float(series["fraction_permuted"].iloc[-1])}


def dataset_permutations(ds, stride: int = 1, chunk: int = 500, *, species_blind: bool = False) -> pd.DataFrame:
    """:func:`permutation_series` of a CG dataset, streamed; events counted across chunks."""
    top = ds.topology
    parts, last, total = [], None, 0
    for block in ds.iter_chunks(chunk=chunk, stride=stride, fields=("positions", "box", "time")):
        box = block["box"] if ds.periodic else None
        p = permuted(block["positions"], box, top.species, top.bonds, species_blind=species_blind)
        prev = np.concatenate([last[None], p[:-1]]) if last is not None else np.concatenate([p[:1], p[:-1]])
        ev = np.sum(p & ~prev, axis=1)
        cum = total + np.cumsum(ev)
        total = int(cum[-1]) if len(cum) else total
        last = p[-1] if len(p) else last
        parts.append(pd.DataFrame({"time_ps": block["time"], "fraction_permuted": p.mean(axis=1) if p.shape[1] else 0.0,
                                   "events_cumulative": cum, "n_entries": p.shape[1]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["time_ps", "fraction_permuted", "events_cumulative", "n_entries"])


def dataset_permutation_summaries(ds, stride: int = 1) -> tuple[pd.DataFrame, dict]:
    """The species-aware series of a CG dataset and its summary, with the species-blind
    summary under ``any_species`` (see the module doc)."""
    series = dataset_permutations(ds, stride=stride)
    summary = permutation_summary(series)
    summary["any_species"] = permutation_summary(dataset_permutations(ds, stride=stride, species_blind=True))
    return series, summary
