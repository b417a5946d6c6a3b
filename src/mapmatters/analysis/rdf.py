"""Radial distribution functions g_AB(r) per species pair, with bonded (excluded) pairs removed.

Distances and histograms come from ``mdtraj.compute_rdf`` (nm), called with an explicit pair
list per species pair and one ``mdtraj.Trajectory`` per chunk of frames.

Normalisation
-------------
Default (``normalisation="pairs"``, mdtraj's, also cpptraj's and ``gmx rdf``'s style): with
P the number of bead pairs actually counted (A x B pairs, i < j for A == A, minus the
dataset's ``topology.exclusions``), n_k(r) the number of those pairs in the shell
[r - dr/2, r + dr/2) in frame k, V_k the box volume and V_shell the exact shell volume
4/3 pi ((r + dr/2)^3 - (r - dr/2)^3)::

    g_AB(r) = sum_k n_k(r) / (P * V_shell * sum_k 1 / V_k)

so g(r) -> 1 at large r for uncorrelated pairs: exactly 1 in expectation for an ideal gas,
and up to the usual O(1/N) finite-size correction in a liquid. For a constant box (NVT) the
sum over 1 / V_k is n_frames / V and this is the frame average; for a varying box each frame
is weighted by 1 / V_k, as if all pair counts were pooled.

The paper's definition, g_AB(r) = dN_AB(r) / (4 pi r^2 rho_A dr) with rho = N / V and dN the
mean number of A beads in the shell around a B bead (``normalisation="density"``), differs by
the constant factor P / P_ideal, P_ideal = N_A N_B (A != B) or N_A^2 / 2 (A == A)::

    g_density(r) = g_pairs(r) * P / P_ideal

It tends to P / P_ideal at large r instead of 1. For hexane (100 molecules; every
intramolecular pair is excluded, e.g. three-site A-A: P = 19,900 - 100 = 19,800 of 20,000;
A-B: 20,000 - 200 = 19,800 of 20,000) the factor is 0.99 = (n_mol - 1) / n_mol for every
species pair, so the two differ by 1 %; the RDF error between two curves normalised the same
way changes by about 2 %.

The shell volume is the exact shell volume, not 4 pi r^2 dr (they differ by dr^2 / (12 r^2)
relative: 0.08 % at r = 0.1 nm, negligible beyond).

Range: r from 0 to r_max, r_max defaulting to half the shortest perpendicular width of the
box over all analysed frames (half the shortest edge for a rectangular box), floored to a
whole number of bins of width dr (default 0.01 nm). Bins are reported by their centres.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError

NORMALISATIONS = ("pairs", "density")


# --------------------------------------------------------------------------- pairs
def species_pairs(n_species: int) -> list[tuple[int, int]]:
    """All unordered species pairs (a, b), a <= b: (0,0), (0,1), ..., (1,1), ..."""
    return [(a, b) for a in range(n_species) for b in range(a, n_species)]


def rdf_column(species_names, a: int, b: int) -> str:
    """Column name of the RDF between species ``a`` and ``b``, e.g. ``g_A-B``."""
    return f"g_{species_names[a]}-{species_names[b]}"


def _pair_keys(pairs: np.ndarray, n_beads: int) -> np.ndarray:
    p = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
    return p[:, 0] * n_beads + p[:, 1]


def rdf_pair_list(species, a: int, b: int, exclusions=None) -> np.ndarray:
    """Bead pairs (P, 2) counted in g_ab: every (i of species a, j of species b), with i < j
    when a == b, no self pairs, and without the pairs in ``exclusions`` (E, 2; any order)."""
    species = np.asarray(species)
    n = len(species)
    ia = np.flatnonzero(species == a)
    ib = np.flatnonzero(species == b)
    if a == b:
        u, v = np.triu_indices(len(ia), k=1)
        pairs = np.stack([ia[u], ia[v]], axis=1)
    else:
        pairs = np.stack(np.meshgrid(ia, ib, indexing="ij"), axis=-1).reshape(-1, 2)
    if exclusions is not None and len(exclusions):
        keep = ~np.isin(_pair_keys(pairs, n), _pair_keys(exclusions, n))
        pairs = pairs[keep]
    return pairs.astype(np.int64)


def ideal_pair_count(species, a: int, b: int) -> float:
    """P_ideal of the paper's density normalisation: N_a N_b, or N_a^2 / 2 when a == b."""
    species = np.asarray(species)
    na = int(np.sum(species == a))
    nb = int(np.sum(species == b))
    return na * na / 2.0 if a == b else float(na * nb)


# --------------------------------------------------------------------------- box
def perpendicular_widths(box: np.ndarray) -> np.ndarray:
    """Perpendicular widths (F, 3) in nm of boxes (F, 3, 3) given as row vectors:
    V / |b x c|, V / |c x a|, V / |a x b|. Equal to the edges of a rectangular box."""
    box = np.asarray(box, dtype=np.float64).reshape(-1, 3, 3)
    a, b, c = box[:, 0], box[:, 1], box[:, 2]
    vol = np.abs(np.einsum("fi,fi->f", a, np.cross(b, c)))
    areas = np.stack([np.linalg.norm(np.cross(b, c), axis=-1), np.linalg.norm(np.cross(c, a), axis=-1),
                      np.linalg.norm(np.cross(a, b), axis=-1)], axis=1)
    return vol[:, None] / areas


def default_r_max_nm(box: np.ndarray) -> float:
    """Half the shortest perpendicular box width (nm) over all frames of ``box`` (F, 3, 3)."""
    return 0.5 * float(perpendicular_widths(box).min())


def rdf_bins(r_max_nm: float, dr_nm: float) -> tuple[int, float]:
    """Number of bins and the effective r_max (floored to a whole number of bins)."""
    if dr_nm <= 0 or r_max_nm <= 0:
        raise InputError(f"RDF needs positive r_max and dr (got r_max={r_max_nm} nm, dr={dr_nm} nm).",
                         key="rdf", fix="set rdf r_max_nm and dr_nm to positive values in nm.")
    n = int(np.floor(r_max_nm / dr_nm + 1e-9))
    if n < 1:
        raise InputError(f"r_max={r_max_nm} nm is shorter than one bin of dr={dr_nm} nm.", key="rdf.dr_nm",
                         fix="use a smaller dr_nm.")
    return n, n * dr_nm


# --------------------------------------------------------------------------- per block
def _md_topology(n_beads: int):
    import mdtraj as md

    top = md.Topology()
    res = top.add_residue("CG", top.add_chain())
    for i in range(n_beads):
        top.add_atom(f"B{i}", None, res)
    return top


def make_trajectory(positions: np.ndarray, box: np.ndarray, topology=None):
    """An ``mdtraj.Trajectory`` (nm) of positions (F, N, 3) with box row vectors (F, 3, 3)."""
    import mdtraj as md

    x = np.asarray(positions, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    top = topology if topology is not None else _md_topology(x.shape[1])
    traj = md.Trajectory(x, top)
    traj.unitcell_vectors = np.broadcast_to(np.asarray(box, dtype=np.float32), (x.shape[0], 3, 3)).copy()
    return traj


def rdf_block(traj, pairs: np.ndarray, n_bins: int, r_max_nm: float) -> tuple[np.ndarray, np.ndarray, float]:
    """g(r) of one block of frames with ``mdtraj.compute_rdf``; returns (r_nm, g, weight).

    ``weight`` = sum over the block's frames of 1 / V_k (1/nm^3): blocks combine exactly as
    sum(g_c * weight_c) / sum(weight_c) (see the module docstring).
    """
    import mdtraj as md

    r, g = md.compute_rdf(traj, pairs, r_range=(0.0, r_max_nm), n_bins=n_bins, periodic=True)
    return r, g, float(np.sum(1.0 / traj.unitcell_volumes))


# --------------------------------------------------------------------------- dataset
def compute_rdfs(ds, *, r_max_nm: float | None = None, dr_nm: float = 0.01, chunk: int | None = None,
                 stride: int = 1, start: int = 0, stop: int | None = None,
                 normalisation: str = "pairs", pairs_of=None) -> pd.DataFrame:
    """g_AB(r) for every species pair of a periodic CG dataset, streamed over chunks of frames.

    Excluded pairs are ``ds.topology.exclusions``. ``r_max_nm`` defaults to
    :func:`default_r_max_nm` of the analysed frames; ``dr_nm`` is the bin width. ``chunk``
    defaults to a block size keeping about 2e7 distances in memory. ``normalisation`` is
    ``"pairs"`` (default, -> 1 at large r) or ``"density"`` (the paper's rho = N / V form,
    see the module docstring). ``pairs_of`` restricts to a list of species-id pairs.

    Returns a DataFrame with columns ``r_nm`` (bin centres) and ``g_<A>-<B>`` per pair.
    """
    if normalisation not in NORMALISATIONS:
        raise InputError(f"unknown RDF normalisation '{normalisation}'.", key="rdf.normalisation",
                         fix=f"use one of: {', '.join(NORMALISATIONS)}.")
    if not ds.periodic:
        raise InputError("an RDF needs a periodic box, and this dataset is not periodic.", file=ds.path,
                         fix="compute RDFs only for bulk (periodic) systems.")
    top = ds.topology
    if r_max_nm is None:
        r_max_nm = default_r_max_nm(ds.read("box", start, stop, stride))
    n_bins, r_max_eff = rdf_bins(r_max_nm, dr_nm)
    sp = pairs_of if pairs_of is not None else species_pairs(len(top.species_names))
    pair_lists = {ab: rdf_pair_list(top.species, ab[0], ab[1], top.exclusions) for ab in sp}
    n_pairs = sum(len(p) for p in pair_lists.values())
    if chunk is None:
        chunk = int(np.clip(2e7 // max(1, n_pairs), 1, 1000))
    mdtop = _md_topology(top.n_beads)
    acc = {ab: np.zeros(n_bins) for ab in sp}
    weight = 0.0
    r = None
    for block in ds.iter_chunks(chunk=chunk, stride=stride, start=start, stop=stop):
        traj = make_trajectory(block["positions"], block["box"], mdtop)
        w = None
        for ab, pairs in pair_lists.items():
            if len(pairs) == 0:
                continue
            r, g, w = rdf_block(traj, pairs, n_bins, r_max_eff)
            acc[ab] += g * w
        weight += w if w is not None else float(np.sum(1.0 / traj.unitcell_volumes))
    if weight == 0.0:
        raise InputError("no frames to analyse.", file=ds.path, fix="check start/stop/stride.")
    if r is None:
        edges = np.linspace(0.0, r_max_eff, n_bins + 1)
        r = 0.5 * (edges[1:] + edges[:-1])
    out = {"r_nm": r}
    for ab in sp:
        col = rdf_column(top.species_names, *ab)
        if len(pair_lists[ab]) == 0:
            out[col] = np.full(n_bins, np.nan)
            continue
        g = acc[ab] / weight
        if normalisation == "density":
            g = g * len(pair_lists[ab]) / ideal_pair_count(top.species, *ab)
        out[col] = g
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- error, CSV
def _g_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c.startswith("g_")]


def rdf_error_by_pair(g_model: pd.DataFrame, g_ref: pd.DataFrame) -> dict[str, float]:
    """Mean squared difference of each common ``g_`` column over the common r grid
    (rows matched on ``r_nm`` rounded to 1e-6 nm). Raw MSE (dimensionless)."""
    m = g_model.assign(_r=np.round(g_model["r_nm"].to_numpy(), 6))
    r = g_ref.assign(_r=np.round(g_ref["r_nm"].to_numpy(), 6))
    cols = [c for c in _g_columns(g_ref) if c in set(_g_columns(g_model))]
    if not cols:
        raise InputError("the two RDF tables have no species pair in common.",
                         fix="compare RDFs of the same mapping (same species names).")
    j = m[["_r"] + cols].merge(r[["_r"] + cols], on="_r", suffixes=("_m", "_r"))
    if len(j) == 0:
        raise InputError("the two RDF tables have no r values in common.",
                         fix="compute both with the same dr_nm.")
    return {c: float(np.nanmean((j[c + "_m"].to_numpy() - j[c + "_r"].to_numpy()) ** 2)) for c in cols}


def rdf_error(g_model, g_ref) -> float:
    """RDF error of Table 1: mean squared difference between model and reference g(r).

    Arrays: same shape, the mean over all elements. DataFrames (``r_nm`` + ``g_`` columns):
    over the common r grid and the common species pairs, all pairs pooled (= the mean of
    :func:`rdf_error_by_pair`, since every pair has the same grid). Returns the raw MSE;
    Table 1 prints it in units of 1e-3, i.e. ``1e3 * rdf_error(...)``.
    """
    if isinstance(g_model, pd.DataFrame) and isinstance(g_ref, pd.DataFrame):
        return float(np.mean(list(rdf_error_by_pair(g_model, g_ref).values())))
    a = np.asarray(g_model, dtype=np.float64)
    b = np.asarray(g_ref, dtype=np.float64)
    if a.shape != b.shape:
        raise InputError(f"RDF arrays differ in shape ({a.shape} vs {b.shape}).",
                         fix="pass DataFrames with r_nm so the common r grid can be used.")
    return float(np.nanmean((a - b) ** 2))


def write_rdf_csv(path, df: pd.DataFrame) -> None:
    """Write an RDF table (``r_nm,g_A-A,g_A-B,...``) to CSV atomically."""
    from ..io import atomic_path

    if "r_nm" not in df.columns or not _g_columns(df):
        raise ValueError("an RDF table needs an r_nm column and g_ columns")
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.8g")


def read_rdf_csv(path) -> pd.DataFrame:
    """Read an RDF CSV written by :func:`write_rdf_csv`."""
    df = pd.read_csv(path)
    if "r_nm" not in df.columns or not _g_columns(df):
        raise InputError(f"not an RDF table (columns {list(df.columns)}).", file=str(path),
                         fix="regenerate it with mapmatters.analysis.write_rdf_csv.")
    return df
