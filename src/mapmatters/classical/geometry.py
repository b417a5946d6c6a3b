"""Bonded coordinates and non-bonded pair distances of CG frames (numpy, orthorhombic boxes).

Conventions match VOTCA and LAMMPS: bond length |r_j - r_i|; angle i-j-k in [0, pi] at the
middle bead; dihedral i-j-k-l in (-pi, pi] with the IUPAC sign (trans = pi), which is what
VOTCA's ``IDihedral`` and LAMMPS' ``dihedral_style table`` compute (mod 2 pi).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def box_lengths(box) -> np.ndarray:
    """(F, 3) edge lengths from (F, 3, 3) row-vector boxes; raises on triclinic boxes."""
    box = np.asarray(box, dtype=float)
    if box.ndim == 2:
        box = box[None]
    diag = np.einsum("fii->fi", box)
    off = box - np.einsum("fi,ij->fij", diag, np.eye(3))
    if np.any(np.abs(off) > 1e-6):
        raise ValueError("only orthorhombic boxes are supported by the classical pipeline")
    return diag


def minimum_image(d: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """Apply the minimum-image convention to difference vectors ``d`` (..., 3).

    ``lengths`` broadcasts against ``d[..., :]`` (e.g. (F, 1, 3) for (F, T, 3)); None or zero
    lengths mean no periodicity in that direction.
    """
    if lengths is None:
        return d
    L = np.asarray(lengths, dtype=float)
    safe = np.where(L > 0, L, 1.0)
    return d - np.where(L > 0, L * np.round(d / safe), 0.0)


def bond_lengths(pos: np.ndarray, pairs: np.ndarray, lengths=None) -> np.ndarray:
    """(F, T) bond lengths for frames (F, N, 3) and bead pairs (T, 2)."""
    L = None if lengths is None else np.asarray(lengths)[:, None, :]
    d = minimum_image(pos[:, pairs[:, 1]] - pos[:, pairs[:, 0]], L)
    return np.linalg.norm(d, axis=-1)


def angles(pos: np.ndarray, triples: np.ndarray, lengths=None) -> np.ndarray:
    """(F, T) angles (rad) i-j-k at bead j."""
    L = None if lengths is None else np.asarray(lengths)[:, None, :]
    u = minimum_image(pos[:, triples[:, 0]] - pos[:, triples[:, 1]], L)
    v = minimum_image(pos[:, triples[:, 2]] - pos[:, triples[:, 1]], L)
    c = np.einsum("ftk,ftk->ft", u, v) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.arccos(np.clip(c, -1.0, 1.0))


def dihedrals(pos: np.ndarray, quads: np.ndarray, lengths=None) -> np.ndarray:
    """(F, T) IUPAC dihedral angles (rad) in (-pi, pi]."""
    L = None if lengths is None else np.asarray(lengths)[:, None, :]
    b1 = minimum_image(pos[:, quads[:, 1]] - pos[:, quads[:, 0]], L)
    b2 = minimum_image(pos[:, quads[:, 2]] - pos[:, quads[:, 1]], L)
    b3 = minimum_image(pos[:, quads[:, 3]] - pos[:, quads[:, 2]], L)
    n1 = np.cross(b1, b2)
    n2 = np.cross(b2, b3)
    x = np.einsum("ftk,ftk->ft", n1, n2)
    y = np.einsum("ftk,ftk->ft", np.cross(n1, n2), b2) / np.linalg.norm(b2, axis=-1)
    return np.arctan2(y, x)


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
        d = minimum_image(d, np.asarray(lengths, dtype=float))
    return i, j, np.linalg.norm(d, axis=-1)
