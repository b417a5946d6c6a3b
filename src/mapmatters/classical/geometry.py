"""Bonded coordinates and non-bonded pair distances of CG frames (numpy, orthorhombic boxes).

The bonded coordinates are :mod:`mapmatters.geometry`'s (one convention for the package);
here they take the classical pipeline's per-frame box edge lengths (F, 3). Conventions match
VOTCA and LAMMPS: bond length |r_j - r_i|; angle i-j-k in [0, pi] at the middle bead;
dihedral i-j-k-l in [-pi, pi] with the IUPAC sign (trans = pi), which is what VOTCA's
``IDihedral`` and LAMMPS' ``dihedral_style table`` compute (mod 2 pi).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .. import geometry
from ..geometry import box_lengths  # noqa: F401  (re-exported: (F, 3, 3) -> (F, 3) edge lengths)


def _boxes(lengths):
    """Per-frame edge lengths (F, 3) (zeros: not periodic) as row-vector boxes (F, 3, 3)."""
    return None if lengths is None else geometry.diagonal_box(lengths)


def bond_lengths(pos: np.ndarray, pairs: np.ndarray, lengths=None) -> np.ndarray:
    """(F, T) bond lengths (nm) for frames (F, N, 3), bead pairs (T, 2), edge lengths (F, 3) or None."""
    return geometry.distances(pos, pairs, _boxes(lengths))


def angles(pos: np.ndarray, triples: np.ndarray, lengths=None) -> np.ndarray:
    """(F, T) angles (rad) i-j-k at bead j."""
    return geometry.angles(pos, triples, _boxes(lengths))


def dihedrals(pos: np.ndarray, quads: np.ndarray, lengths=None) -> np.ndarray:
    """(F, T) IUPAC dihedral angles (rad) in [-pi, pi]."""
    return geometry.dihedrals(pos, quads, _boxes(lengths))


def bonded_values(kind: str, pos: np.ndarray, terms: np.ndarray, lengths=None) -> np.ndarray:
    """Dispatch to :func:`bond_lengths`, :func:`angles` or :func:`dihedrals`."""
    fn = {"bond": bond_lengths, "angle": angles, "dihedral": dihedrals}[kind]
    return fn(pos, terms, lengths)


def neighbour_pairs(pos: np.ndarray, lengths, cutoff: float,
                    excluded: set[tuple[int, int]] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All bead pairs closer than ``cutoff`` in one frame (N, 3): (i, j, distance), i < j.

    Pairs in ``excluded`` (global (i, j), i < j) are dropped. ``lengths`` None or zeros means
    an open (non-periodic) system; otherwise the minimum image is used (cutoff < L/2).
    """
    pos = np.asarray(pos, dtype=float)
    periodic = lengths is not None and np.all(np.asarray(lengths) > 0)
    if periodic:
        L = np.asarray(lengths, dtype=float)
        x = np.mod(pos, L)
        x = np.where(x >= L, 0.0, x)
        tree = cKDTree(x, boxsize=L)
    else:
        tree = cKDTree(pos)
    pairs = tree.query_pairs(cutoff, output_type="ndarray")
    if len(pairs) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0)
    i, j = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    if excluded:
        n = len(pos)
        ex = np.fromiter((a * n + b for a, b in excluded), dtype=np.int64, count=len(excluded))
        keep = ~np.isin(i.astype(np.int64) * n + j, ex)
        i, j = i[keep], j[keep]
    d = pos[j] - pos[i]
    if periodic:
        d = geometry.minimum_image(d, np.asarray(lengths, dtype=float))
    return i, j, np.linalg.norm(d, axis=-1)
