"""Backbone dihedrals of CG peptides, Ramachandran free energies and symmetry scores.

Small pure numpy functions, one quantity each (STUDY.md sections 6 and 8, finding 4).

Units and conventions:

- Positions and boxes in nm (boxes as in :mod:`mapmatters.geometry`); angles in **degrees**,
  wrapped to [-180, 180). Dihedrals use :func:`mapmatters.geometry.dihedrals` (IUPAC sign,
  the same numbers as ``mdtraj.compute_phi/psi``).
- Bead names are ``<RES><num>-<bead>`` (``ACE1-C``, ``ALA2-CA``, ``NME3-N``), as the residue
  templates of the mapping write them. phi(i) = C(i-1)-N(i)-CA(i)-C(i) and
  psi(i) = N(i)-CA(i)-C(i)-N(i+1); the ACE cap supplies C(i-1) of the first residue and the
  NME cap N(i+1) of the last one.
- Probability maps P are histograms normalised to sum 1 (probability per bin, not a
  density); free energies F = -k_B T ln P in kJ/mol (or kcal/mol), minimum shifted to 0,
  **NaN in empty bins**.
- Divergences are in **nats** (natural logarithm); the Jensen-Shannon divergence of two
  maps lies in [0, ln 2].
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np

from .. import geometry
from ..units import KJ_TO_KCAL, kT

__all__ = [
    "CHIRALITY",
    "DEFAULT_BASINS",
    "L_IMPROPER_SIGN",
    "PHI",
    "PSI",
    "backbone_dihedrals",
    "basin_populations",
    "bead_quads",
    "chirality_impropers",
    "d_form_fraction",
    "free_energy",
    "jensen_shannon",
    "overlap",
    "parse_bead_name",
    "periodic_edges",
    "phi_psi",
    "point_symmetry",
    "ramachandran_histogram",
    "residues",
    "reversal_symmetry",
    "wrap_degrees",
]

#: phi = C(i-1)-N-CA-C; "-X" is bead X of the previous residue.
PHI: tuple[str, ...] = ("-C", "N", "CA", "C")
#: psi = N-CA-C-N(i+1); "+X" is bead X of the next residue.
PSI: tuple[str, ...] = ("N", "CA", "C", "+N")
#: Chirality improper N-CA-CB-C (central atom CA second, see :func:`mapmatters.geometry.impropers`).
CHIRALITY: tuple[str, ...] = ("N", "CA", "CB", "C")

#: Sign of the improper N-CA-CB-C of an L (S) amino acid, measured with
#: :func:`mapmatters.geometry.impropers`: about +120 deg for an ideal tetrahedral S centre
#: built from the CIP rule, +123 deg on :func:`mapmatters.reference.peptide.build_peptide`
#: (tests/unit/test_peptide_analysis.py checks both). A D residue has about -120 deg.
L_IMPROPER_SIGN = 1.0

#: Default Ramachandran basins of alanine dipeptide, rectangles
#: (phi_lo, phi_hi, psi_lo, psi_hi) in degrees, half-open [lo, hi). See
#: :func:`basin_populations` for the reasoning.
DEFAULT_BASINS: dict[str, list[tuple[float, float, float, float]]] = {
    "beta_PPII": [(-180.0, 0.0, 50.0, 180.0), (-180.0, 0.0, -180.0, -120.0)],
    "alpha_R": [(-180.0, 0.0, -120.0, 50.0)],
    "alpha_L": [(0.0, 180.0, -180.0, 180.0)],
}

_NAME = re.compile(r"^(?P<res>.*?[^\d-])(?P<num>\d+)-(?P<bead>.+)$")


# ------------------------------------------------------------------ bead-name patterns
def parse_bead_name(name: str) -> tuple[str, int, str]:
    """Split a bead name ``<RES><num>-<bead>`` into (residue name, residue number, bead name).

    ``"ALA2-CA"`` -> ``("ALA", 2, "CA")``. The residue name is the shortest prefix ending in
    a character that is neither a digit nor ``-``; the number is the digits after it, up to
    the next ``-``; the bead name is the rest. Raises ``ValueError`` for other names.
    """
    m = _NAME.match(str(name))
    if m is None:
        raise ValueError(f"bead name '{name}' is not of the form <RES><num>-<bead> (e.g. ALA2-CA)")
    return m.group("res"), int(m.group("num")), m.group("bead")


def residues(bead_names: Sequence[str]) -> list[tuple[str, int, dict[str, int]]]:
    """Residues in order of appearance: a list of (label, number, {bead: index}).

    A new residue starts whenever the ``<RES><num>`` part of the name changes from one bead
    to the next, so two copies of a molecule with the same names give separate residues.
    The label is ``<RES><num>`` (``"ALA2"``). Raises ``ValueError`` if a bead name appears
    twice inside one residue.
    """
    out: list[tuple[str, int, dict[str, int]]] = []
    prev = None
    for i, name in enumerate(bead_names):
        res, num, bead = parse_bead_name(name)
        key = (res, num)
        if key != prev:
            out.append((f"{res}{num}", num, {}))
            prev = key
        beads = out[-1][2]
        if bead in beads:
            raise ValueError(f"bead '{name}' appears twice in residue {out[-1][0]}")
        beads[bead] = i
    return out


def _matches(bead_names: Sequence[str], pattern: Sequence[str]):
    """(quads, labels, residue positions) of :func:`bead_quads`."""
    res = residues(bead_names)
    quads, labels, where = [], [], []
    for k, (label, num, _) in enumerate(res):
        idx = []
        for p in pattern:
            off, bead = (-1, p[1:]) if p.startswith("-") else (1, p[1:]) if p.startswith("+") else (0, p)
            j = k + off
            if not 0 <= j < len(res) or res[j][1] != num + off or bead not in res[j][2]:
                break
            idx.append(res[j][2][bead])
        else:
            quads.append(idx)
            labels.append(label)
            where.append(k)
    return np.asarray(quads, dtype=np.int64).reshape(-1, len(pattern)), labels, where


def bead_quads(bead_names: Sequence[str], pattern: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Bead indices (K, 4) of a per-residue pattern, and the K residue labels.

    ``pattern`` names one bead per position, relative to the residue it is matched on
    (mdtraj-style offsets): ``"X"`` is bead X of that residue, ``"-X"`` bead X of the
    previous residue, ``"+X"`` bead X of the next one. Neighbours are the residues before
    and after in order of appearance (:func:`residues`) and count only if their residue
    number differs by exactly 1, so a numbering restart (a second molecule) is a chain
    break. Residues where any bead is missing are skipped. Works for any width, e.g.
    :data:`PHI`, :data:`PSI`, :data:`CHIRALITY`.
    """
    quads, labels, _ = _matches(bead_names, pattern)
    return quads, labels


def wrap_degrees(a) -> np.ndarray:
    """Angles in degrees wrapped to [-180, 180): ``(a + 180) mod 360 - 180``."""
    w = np.mod(np.asarray(a, dtype=np.float64) + 180.0, 360.0) - 180.0
    return np.where(w >= 180.0, w - 360.0, w)  # mod can round up to 360


def backbone_dihedrals(positions, bead_names: Sequence[str], pattern: Sequence[str],
                       box=None) -> tuple[np.ndarray, list[str]]:
    """Dihedrals (degrees, [-180, 180)) of a 4-bead residue pattern, and the residue labels.

    ``positions`` (F, N, 3) or (N, 3) in nm; returns (F, K) or (K,). The value is
    :func:`mapmatters.geometry.dihedrals` of the quadruple from :func:`bead_quads`
    (minimum image when ``box`` is given).
    """
    quads, labels = bead_quads(bead_names, pattern)
    return wrap_degrees(np.degrees(geometry.dihedrals(positions, quads, box))), labels


def phi_psi(positions, bead_names: Sequence[str], box=None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """phi and psi (degrees, [-180, 180)) of every residue that has both: (F, R), (F, R), labels.

    ((R,), (R,) for positions (N, 3).) Residues in order of appearance.

    phi = C(i-1)-N-CA-C, psi = N-CA-C-N(i+1) (IUPAC sign, as mdtraj). For a capped
    alanine in the Core mapping (ACE1-C, ALA2-N, ALA2-CA, ALA2-C, NME3-N) R = 1.
    """
    qphi, lphi, kphi = _matches(bead_names, PHI)
    qpsi, _, kpsi = _matches(bead_names, PSI)
    both = sorted(set(kphi) & set(kpsi))
    ip = [kphi.index(k) for k in both]
    jp = [kpsi.index(k) for k in both]
    phi = wrap_degrees(np.degrees(geometry.dihedrals(positions, qphi[ip], box)))
    psi = wrap_degrees(np.degrees(geometry.dihedrals(positions, qpsi[jp], box)))
    return phi, psi, [lphi[i] for i in ip]


# ------------------------------------------------------------------ histograms and F
def periodic_edges(width_deg: float = 10.0) -> np.ndarray:
    """Bin edges -180, -180 + w, ..., 180 (degrees) for a bin width w that divides 360.

    These edges are symmetric about 0 (edge k and edge n - k are negatives of each other),
    so the reflection a -> -a maps bin j onto bin n - 1 - j exactly.
    """
    n = 360.0 / float(width_deg)
    if width_deg <= 0 or abs(n - round(n)) > 1e-9:
        raise ValueError(f"bin width {width_deg} deg does not divide 360")
    return np.linspace(-180.0, 180.0, int(round(n)) + 1)


def ramachandran_histogram(phi_deg, psi_deg, width_deg: float = 10.0,
                           weights=None) -> tuple[np.ndarray, np.ndarray]:
    """P(phi, psi) on the periodic grid :func:`periodic_edges`: (P (n, n), edges).

    All values (every frame, every residue) are pooled. An angle a goes to bin
    floor((wrap(a) + 180) / w); P[i, j] is the (weighted) fraction of samples with phi in
    bin i and psi in bin j, so P sums to 1. Axis 0 is phi, axis 1 psi. ``weights``
    (broadcast to the shape of ``phi_deg``) weight the samples, e.g. reweighting factors.
    """
    edges = periodic_edges(width_deg)
    n = len(edges) - 1
    a = wrap_degrees(phi_deg).ravel()
    b = wrap_degrees(psi_deg).ravel()
    if a.shape != b.shape:
        raise ValueError(f"phi and psi differ in size: {a.size} vs {b.size}")
    if a.size == 0:
        raise ValueError("no samples to histogram")
    w = np.ones_like(a) if weights is None else np.broadcast_to(np.asarray(weights, float), np.shape(phi_deg)).ravel()
    ia = np.minimum(np.floor((a + 180.0) / width_deg).astype(np.int64), n - 1)
    ib = np.minimum(np.floor((b + 180.0) / width_deg).astype(np.int64), n - 1)
    P = np.bincount(ia * n + ib, weights=w, minlength=n * n).reshape(n, n)
    return P / P.sum(), edges


def free_energy(P, temperature_k: float, unit: str = "kJ/mol") -> np.ndarray:
    """F = -k_B T ln P, shifted so that its minimum is 0; NaN where P = 0.

    ``P`` a histogram of any shape on bins of equal size (normalisation and bin volume only
    shift F, and the shift is removed). ``unit`` "kJ/mol" (k_B from
    :data:`mapmatters.units.KB_KJ_MOL_K`) or "kcal/mol" (times
    :data:`mapmatters.units.KJ_TO_KCAL`, thermochemical calorie). Empty bins are NaN
    rather than +inf so that plots leave them blank and nan-aware reductions skip them.
    """
    factor = {"kJ/mol": 1.0, "kcal/mol": KJ_TO_KCAL}.get(unit)
    if factor is None:
        raise ValueError(f"unit must be 'kJ/mol' or 'kcal/mol', got {unit!r}")
    P = np.asarray(P, dtype=np.float64)
    if not np.any(P > 0):
        raise ValueError("the histogram is empty")
    with np.errstate(divide="ignore"):
        F = np.where(P > 0, -kT(temperature_k) * factor * np.log(np.where(P > 0, P, 1.0)), np.nan)
    return F - np.nanmin(F)


def _normalised(P) -> np.ndarray:
    P = np.asarray(P, dtype=np.float64)
    s = P.sum()
    if not s > 0 or np.any(P < 0):
        raise ValueError("a probability map must be non-negative with a positive sum")
    return P / s


def jensen_shannon(P, Q) -> float:
    """Jensen-Shannon divergence of two maps on the same grid, in **nats**, in [0, ln 2].

    JSD = KL(p || m) / 2 + KL(q || m) / 2 with p = P / sum P, q = Q / sum Q, m = (p + q) / 2,
    KL(p || m) = sum_{p > 0} p ln(p / m). 0 for identical maps, ln 2 for maps with disjoint
    support; sqrt(JSD) is a metric. Divide by ln 2 for bits.
    """
    p, q = _normalised(P), _normalised(Q)
    if p.shape != q.shape:
        raise ValueError(f"maps differ in shape: {p.shape} vs {q.shape}")
    m = 0.5 * (p + q)

    def kl(a):
        nz = a > 0
        return float(np.sum(a[nz] * np.log(a[nz] / m[nz])))

    return min(max(0.5 * kl(p) + 0.5 * kl(q), 0.0), float(np.log(2.0)))


def overlap(P, Q) -> float:
    """Overlap sum_bins min(p, q) of two normalised maps, in [0, 1] (= 1 - total variation).

    1 for identical maps, 0 for disjoint support.
    """
    p, q = _normalised(P), _normalised(Q)
    if p.shape != q.shape:
        raise ValueError(f"maps differ in shape: {p.shape} vs {q.shape}")
    return float(np.minimum(p, q).sum())


# ------------------------------------------------------------------ symmetry scores
def point_symmetry(P) -> float:
    """Point-symmetry score of P(phi, psi) under (phi, psi) -> (-phi, -psi), in [0, 1].

    score = :func:`overlap` (P, P_r) with P_r[i, j] = P[n-1-i, m-1-j], which is P of the
    reflected angles when the edges are symmetric about 0 (:func:`periodic_edges`). 1 for
    a map that is point-symmetric about (0, 0) (an achiral Core model whose L and D forms
    interconvert, STUDY.md finding 4); 0 when the reflection moves all weight to empty bins
    (a sample confined to phi < 0 is moved to phi > 0). A finite sample of a symmetric
    distribution scores a little below 1 (bin noise).
    """
    P = np.asarray(P, dtype=np.float64)
    return overlap(P, P[::-1, ::-1])


def reversal_symmetry(P) -> float:
    """Direction-reversal score of P(phi, psi): :func:`overlap` (P, P^T), in [0, 1].

    Reversing the bead order of a chain maps the quadruple (a, b, c, d) to (d, c, b, a),
    which has the same IUPAC dihedral. For the 5-bead Core chain C_ACE, N, CA, C, N_NME
    read backwards, phi' = (N_NME, C, CA, N) = psi and psi' = (C, CA, N, C_ACE) = phi; for
    a longer chain phi'(i) = psi(R+1-i) and psi'(i) = phi(R+1-i), so the pooled map goes
    to its transpose. A model that cannot tell the chain direction (one species for all
    beads, STUDY.md finding 4) has P(phi, psi) = P(psi, phi): score 1. Needs a square grid
    with the same edges on both axes (as :func:`ramachandran_histogram` gives).
    """
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != P.shape[1]:
        raise ValueError(f"reversal symmetry needs a square map, got {P.shape}")
    return overlap(P, P.T)


def basin_populations(phi_deg, psi_deg,
                      basins: Mapping[str, Sequence[Sequence[float]]] | None = None) -> dict[str, float]:
    """Fraction of samples in each Ramachandran basin: {name: fraction}.

    ``basins`` maps a name to rectangles (phi_lo, phi_hi, psi_lo, psi_hi) in degrees,
    half-open [lo, hi) on angles wrapped to [-180, 180). A sample belongs to the **first**
    basin (in dict order) with a rectangle containing it, so the fractions sum to at most
    1; 1 - sum is the unassigned fraction. All samples (frames x residues) are pooled.

    Default (:data:`DEFAULT_BASINS`), for alanine dipeptide: the minima lie near
    alpha_R (-70, -40), PPII (-75, 145), beta/C5 (-150, 155), C7eq (-83, 73; gas phase),
    alpha_L (60, 45) and C7ax (70, -70), degrees. Lines are drawn through the sparsely
    populated bands between them:

    - beta_PPII: phi < 0 and (psi >= 50 or psi < -120) (beta/C5, PPII and C7eq; the basin
      wraps through psi = +-180);
    - alpha_R: phi < 0 and -120 <= psi < 50 (the right-handed helical basin and its
      bridge region near psi = 0; the low-density band between alpha_R, which rarely
      reaches psi = -100, and the wrapped beta basin, which ends near -150 to -160, is
      split at -120);
    - alpha_L: phi >= 0 (the whole right half plane: alpha_L, C7ax and the mirror images
      of the L basins, i.e. where a D form or a point-symmetric model puts weight).
    """
    basins = DEFAULT_BASINS if basins is None else basins
    a = wrap_degrees(phi_deg).ravel()
    b = wrap_degrees(psi_deg).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError("phi and psi must be non-empty and of equal size")
    free = np.ones(a.size, dtype=bool)
    out = {}
    for name, rects in basins.items():
        inside = np.zeros(a.size, dtype=bool)
        for r in rects:
            p0, p1, s0, s1 = map(float, r)
            inside |= (a >= p0) & (a < p1) & (b >= s0) & (b < s1)
        take = inside & free
        free &= ~take
        out[name] = float(take.sum()) / a.size
    return out


# ------------------------------------------------------------------ chirality
def chirality_impropers(positions, bead_names: Sequence[str], box=None) -> tuple[np.ndarray, list[str]]:
    """Improper N-CA-CB-C (degrees, [-180, 180)) per residue with all four beads, and labels.

    :func:`mapmatters.geometry.impropers` of the quadruple (N, CA, CB, C) of one residue:
    about +120 deg for L (S) alanine (:data:`L_IMPROPER_SIGN`), about -120 for D.
    Needs a CB bead (Core Beta, Heavy Atom, United Atom); returns (F, 0) otherwise.
    """
    quads, labels = bead_quads(bead_names, CHIRALITY)
    return wrap_degrees(np.degrees(geometry.impropers(positions, quads, box))), labels


def d_form_fraction(improper_deg, axis: int | None = None, l_sign: float = L_IMPROPER_SIGN):
    """Fraction of samples whose improper N-CA-CB-C has the sign opposite to L's.

    D fraction = mean(sign(improper) == -sign(l_sign)) over ``axis`` (None: all values
    pooled; 0: per residue for an (F, R) array). Exactly planar values (0) count as not D.
    0 for L frames, 1 for their mirror image.
    """
    x = np.asarray(improper_deg, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no improper values")
    d = (np.sign(x) == -np.sign(l_sign)).astype(np.float64)
    return float(d.mean()) if axis is None else d.mean(axis=axis)
