"""Helicity and handedness of CG polyalanine from its CA beads (STUDY.md section 6, finding 6).

Small pure numpy functions, one quantity each. Positions in nm, (F, N, 3) or (N, 3);
per-frame results (F,) or a scalar. Boxes as in :mod:`mapmatters.geometry` (minimum image
when given; ``None`` for a whole molecule in free space).

- Q_hel: Rudzinski & Noid (2015) helicity as the paper writes it (its eq. 8);
- chi_hel: Sidorova et al. (2021) handedness (the paper's eq. 9);
- F(chi_hel, Q_hel) on the authors' grid: kcal/mol, 200 x 200 bins, chi_hel in
  [-0.06, 0.06] nm^3, Q_hel in [0, 1], minimum shifted to 0 (NaN in empty bins).

Reference values (tests/unit/test_peptide_analysis.py), ideal 15-residue chains built by
:func:`mapmatters.reference.peptide.build_peptide`: alpha helix (-57, -47):
CA(i)-CA(i+3) = 0.523 nm, Q_hel = 0.987, chi_hel = +0.043 nm^3; its mirror image
chi_hel = -0.043; extended chain (-139, 135): CA(i)-CA(i+3) = 1.05 nm, Q_hel = 5e-4.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import geometry
from .ramachandran import free_energy, overlap, residues

__all__ = [
    "HELIX_CHI_RANGE",
    "HELIX_BINS",
    "ca_indices",
    "handedness",
    "helical_fractions",
    "helicity",
    "helix_free_energy",
    "helix_histogram",
    "least_helical_frames",
    "mirror_symmetry",
    "radius_of_gyration",
]

#: The authors' F(chi_hel, Q_hel) grid: 200 bins per axis, chi_hel in +-0.06 nm^3.
HELIX_BINS = 200
HELIX_CHI_RANGE = 0.06


def ca_indices(bead_names: Sequence[str]) -> np.ndarray:
    """Indices of the beads named ``<RES><num>-CA``, in residue order (order of appearance).

    One chain only: the result is the CA trace Q_hel and chi_hel are defined on.
    """
    return np.asarray([b["CA"] for _, _, b in residues(bead_names) if "CA" in b], dtype=np.int64)


def _trace(ca_positions):
    x = np.asarray(ca_positions, dtype=np.float64)
    single = x.ndim == 2
    x = x[None] if single else x
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"CA positions must be (F, N, 3) or (N, 3), got {np.shape(ca_positions)}")
    if x.shape[1] < 4:
        raise ValueError(f"helicity needs at least 4 CA beads, got {x.shape[1]}")
    return x, single


def helicity(ca_positions, box=None, d0_nm: float = 0.5, sigma2_nm2: float = 0.02):
    """Q_hel = (1/N_hel) sum_{i=1}^{N_hel} exp(-(d_{i,i+3} - d0)^2 / (2 sigma^2)), dimensionless.

    d_{i,i+3} = |CA_{i+3} - CA_i| in nm over the N_hel = N_CA - 3 pairs three residues apart,
    d0 = 0.5 nm, sigma^2 = 0.02 nm^2 (so the denominator is 2 sigma^2 = 0.04 nm^2; the
    paper writes exp(-1/2sigma^2 (d - d0)^2) with "standard deviation sigma^2 = 0.02 nm^2",
    read here as the variance, sigma = 0.141 nm). 0 for a coil (an extended chain,
    d = 1.05 nm, gives 5e-4), 1 for d = d0 (an ideal alpha helix, d = 0.523 nm, gives 0.987).
    """
    x, single = _trace(ca_positions)
    n = x.shape[1]
    pairs = np.stack([np.arange(n - 3), np.arange(3, n)], axis=1)
    d = geometry.distances(x, pairs, box)
    q = np.exp(-((d - d0_nm) ** 2) / (2.0 * sigma2_nm2)).mean(axis=-1)
    return float(q[0]) if single else q


def handedness(ca_positions, box=None):
    """chi_hel = (1/N_hel) sum_{i=1}^{N_CA-3} v_i . (v_{i+1} x v_{i+2}), nm^3.

    v_i = CA_{i+1} - CA_i (minimum image when ``box`` is given), N_hel = N_CA - 3 (the number
    of consecutive triples). Positive for a right-handed helix (the L-alanine alpha helix,
    +0.043 nm^3), negative for a left-handed one; changes sign under a mirror image.
    """
    x, single = _trace(ca_positions)
    n = x.shape[1]
    v = geometry.displacements(x, np.arange(n - 1), np.arange(1, n), box)  # (F, n-1, 3)
    triple = np.einsum("fki,fki->fk", v[:, :-2], np.cross(v[:, 1:-1], v[:, 2:]))
    chi = triple.mean(axis=-1)
    return float(chi[0]) if single else chi


def radius_of_gyration(positions, masses=None):
    """R_g = sqrt(sum_i w_i |x_i - x_c|^2 / sum_i w_i), nm, x_c = sum_i w_i x_i / sum_i w_i.

    ``positions`` (F, N, 3) or (N, 3) of one whole molecule (no periodic images); ``masses``
    (N,) weights (amu) for the mass-weighted R_g, or ``None`` for equal weights.
    """
    x = np.asarray(positions, dtype=np.float64)
    single = x.ndim == 2
    x = x[None] if single else x
    w = np.ones(x.shape[1]) if masses is None else np.asarray(masses, dtype=np.float64)
    if w.shape != (x.shape[1],) or not w.sum() > 0:
        raise ValueError(f"masses must be ({x.shape[1]},) with a positive sum")
    w = w / w.sum()
    xc = np.einsum("n,fni->fi", w, x)
    rg = np.sqrt(np.einsum("n,fn->f", w, np.sum((x - xc[:, None]) ** 2, axis=-1)))
    return float(rg[0]) if single else rg


def helix_histogram(chi_hel, q_hel, bins: int = HELIX_BINS, chi_max: float = HELIX_CHI_RANGE,
                    q_range: tuple[float, float] = (0.0, 1.0)):
    """P(chi_hel, Q_hel) on the authors' grid: (P (bins, bins), chi_edges, q_edges).

    ``bins`` equal bins on [-chi_max, chi_max] (nm^3; edges symmetric about 0, so
    chi -> -chi maps bin j onto bin bins - 1 - j) and on ``q_range``. Samples outside the
    grid are dropped and P is normalised over the samples inside (sum 1). Axis 0 is chi_hel.
    """
    c = np.asarray(chi_hel, dtype=np.float64).ravel()
    q = np.asarray(q_hel, dtype=np.float64).ravel()
    if c.shape != q.shape:
        raise ValueError(f"chi_hel and Q_hel differ in size: {c.size} vs {q.size}")
    chi_edges = np.linspace(-chi_max, chi_max, bins + 1)
    q_edges = np.linspace(q_range[0], q_range[1], bins + 1)
    H, _, _ = np.histogram2d(c, q, bins=(chi_edges, q_edges))
    if H.sum() == 0:
        raise ValueError("no samples inside the (chi_hel, Q_hel) grid")
    return H / H.sum(), chi_edges, q_edges


def helix_free_energy(chi_hel, q_hel, temperature_k: float = 300.0, unit: str = "kcal/mol", **grid):
    """F(chi_hel, Q_hel) = -k_B T ln P, minimum 0, NaN in empty bins: (F, chi_edges, q_edges).

    P from :func:`helix_histogram` (``grid`` passes bins, chi_max, q_range); F by
    :func:`mapmatters.analysis.ramachandran.free_energy`, in kcal/mol by default as the
    authors plotted it.
    """
    P, ce, qe = helix_histogram(chi_hel, q_hel, **grid)
    return free_energy(P, temperature_k, unit), ce, qe


def helical_fractions(chi_hel, q_hel, q_min: float = 0.5, chi_min: float = 0.02) -> tuple[float, float]:
    """(right, left): fractions of frames that are right- / left-handed helices.

    right = mean(Q_hel > q_min and chi_hel > chi_min), left = mean(Q_hel > q_min and
    chi_hel < -chi_min), over all frames given. Defaults: q_min = 0.5 asks for more than half
    of the ideal helical score (the mean (i, i+3) distance within about
    sqrt(2 * 0.02 * ln 2) = 0.17 nm of 0.5 nm); chi_min = 0.02 nm^3 is about half of the
    ideal alpha helix's |chi_hel| = 0.043 nm^3, and a third of the authors' plot range, so
    partly formed helices of either hand count and a coil (chi_hel near 0) does not.
    """
    c = np.asarray(chi_hel, dtype=np.float64).ravel()
    q = np.asarray(q_hel, dtype=np.float64).ravel()
    if c.shape != q.shape or c.size == 0:
        raise ValueError("chi_hel and Q_hel must be non-empty and of equal size")
    helical = q > q_min
    return float(np.mean(helical & (c > chi_min))), float(np.mean(helical & (c < -chi_min)))


def mirror_symmetry(P, chi_edges) -> float:
    """Mirror-symmetry score of P(chi_hel, Q_hel) under chi_hel -> -chi_hel, in [0, 1].

    :func:`mapmatters.analysis.ramachandran.overlap` (P, P[::-1, :]): 1 when the map does
    not prefer either hand (the CA unique-species model, STUDY.md finding 6), 0 when all
    weight is on one side of chi_hel = 0 with none mirrored. ``chi_edges`` must be symmetric
    about 0 (checked), as :func:`helix_histogram` makes them.
    """
    e = np.asarray(chi_edges, dtype=np.float64)
    P = np.asarray(P, dtype=np.float64)
    if P.shape[0] != len(e) - 1 or not np.allclose(e, -e[::-1], atol=1e-12 * max(1.0, np.abs(e).max())):
        raise ValueError("chi_hel edges must match P's first axis and be symmetric about 0")
    return overlap(P, P[::-1, :])


def least_helical_frames(q_hel, n: int) -> list[int]:
    """The ``n`` frames with the lowest Q_hel (ties: the earlier frame), lowest first.

    The paper's CG MD starts (STUDY.md section 5): the least helical reference frames, so that a
    model has to form the helix itself."""
    q = np.asarray(q_hel, dtype=np.float64).ravel()
    if n < 1 or n > q.size:
        raise ValueError(f"need 1 <= n <= {q.size} start frames, got {n}")
    return [int(i) for i in np.argsort(q, kind="stable")[:n]]
