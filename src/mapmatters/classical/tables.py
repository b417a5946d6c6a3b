"""From force-matched force tables to complete potential tables (and LAMMPS table files).

csg_fmatch gives F(x) = -dU/dx only where the data are (the fit grid). A simulation needs
tables over the whole reachable domain, so :func:`complete_table`:

1. resamples F on a uniform output grid covering the domain of the interaction kind
   (pairs: (0, cut-off]; bonds: (0, 2 x fit max]; angles: [0, pi]; dihedrals: [-pi, pi));
2. extrapolates where there were no data so the model stays bound and repulsive:
   - short-range side of pairs, bonds and angles: a linear force wall
     F(x) = max(F(x0), 0) + k (x0 - x), with k the local slope -dF/dx at the fit edge or a
     floor ``2 * wall_kT * kT / (0.25 w)**2`` (w = width of the fit range), whichever is larger;
   - long side of bonds: the mirror wall F(x) = min(F(x1), 0) - k (x - x1);
   - long side of angles: F goes linearly to zero at pi (U is flat at the straight angle);
   - pairs end at the cut-off (the fit grid ends there);
   - dihedrals are fitted on the full circle (periodic); the mean force is removed so U is periodic;
3. integrates U(x) = -int F dx (trapezoid rule) with U(cut-off) = 0 for pairs and min U = 0 for
   bonded terms.

The LAMMPS writers convert at the edge: nm -> A, kJ/mol -> kcal/mol, rad -> degrees
(angle and dihedral tables give -dE/dtheta per degree).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import units
from .model import InteractionType

#: Output grid spacing per kind (nm for pairs and bonds, rad for angles and dihedrals).
TABLE_STEP = {"pair": 0.002, "bond": 0.001, "angle": math.pi / 360, "dihedral": math.pi / 180}


@dataclass
class PotentialTable:
    """A complete tabulated potential on a uniform grid (internal units)."""

    itype: InteractionType
    x: np.ndarray          # nm or rad
    energy: np.ndarray     # kJ/mol
    force: np.ndarray      # -dU/dx: kJ/mol/nm or kJ/mol/rad
    fit_min: float
    fit_max: float

    @property
    def kind(self) -> str:
        return self.itype.kind

    def to_text(self) -> str:
        """Plain 3-column table (x, U, F) with a header, for inspection and plotting."""
        head = (f"# {self.itype.name}: x U(kJ/mol) F=-dU/dx; fitted range [{self.fit_min:.5g}, "
                f"{self.fit_max:.5g}], outside extrapolated\n")
        return head + "".join(f"{a:.6f} {b:.8g} {c:.8g}\n" for a, b, c in zip(self.x, self.energy, self.force))


def integrate_force(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    """U(x) = -int_{x[0]}^{x} F dx' (cumulative trapezoid), U(x[0]) = 0."""
    x = np.asarray(x, dtype=float)
    f = np.asarray(f, dtype=float)
    u = np.zeros_like(f)
    u[1:] = -np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(x))
    return u


def edge_slope(x: np.ndarray, f: np.ndarray, side: str, width: float) -> float:
    """dF/dx from a straight-line fit over ``width`` at the ``side`` ('low'/'high') of the data."""
    if side == "low":
        m = x <= x[0] + width
    else:
        m = x >= x[-1] - width
    if m.sum() < 2:
        m = np.zeros_like(x, bool)
        m[:2] = side == "low"
        m[-2:] = side != "low"
    return float(np.polyfit(x[m], f[m], 1)[0])


def output_grid(kind: str, fit_max: float, cutoff: float | None = None, step: float | None = None) -> np.ndarray:
    """Uniform grid of the complete table of ``kind``."""
    h = step or TABLE_STEP[kind]
    if kind == "pair":
        n = int(round(cutoff / h))
        return h * np.arange(1, n + 1)
    if kind == "bond":
        hi = max(2.0 * fit_max, fit_max + 0.5)
        n = int(math.ceil(hi / h))
        return h * np.arange(1, n + 1)
    if kind == "angle":
        n = int(round(math.pi / h))
        return np.linspace(0.0, math.pi, n + 1)
    n = int(round(2 * math.pi / h))
    return -math.pi + (2 * math.pi / n) * np.arange(n)


def complete_table(itype: InteractionType, x_fit, f_fit, *, cutoff: float | None = None,
                   temperature: float = 300.0, wall_kT: float = 10.0,
                   step: float | None = None) -> PotentialTable:
    """Extend a force-matched force F(x) to the full domain and integrate it (see module doc)."""
    kind = itype.kind
    x_fit = np.asarray(x_fit, dtype=float)
    f_fit = np.asarray(f_fit, dtype=float)
    order = np.argsort(x_fit)
    x_fit, f_fit = x_fit[order], f_fit[order]
    x0, x1 = float(x_fit[0]), float(x_fit[-1])
    if kind == "pair" and cutoff is None:
        cutoff = x1
    x = output_grid(kind, x1, cutoff, step)
    kT = units.KB_KJ_MOL_K * temperature
    w = x1 - x0
    k_floor = 2.0 * wall_kT * kT / (0.25 * w) ** 2
    slope_w = max(0.1 * w, 3 * (x_fit[1] - x_fit[0]))

    if kind == "dihedral":
        # periodic: interpolate on the circle, remove the net force so U is periodic
        xp = np.concatenate([x_fit - 2 * math.pi, x_fit, x_fit + 2 * math.pi])
        fp = np.concatenate([f_fit, f_fit, f_fit])
        f = np.interp(x, xp, fp)
        f = f - f.mean()
        u = integrate_force(np.append(x, x[-1] + (x[1] - x[0])), np.append(f, f[0]))[:-1]
        u -= u.min()
        return PotentialTable(itype, x, u, f, x0, x1)

    f = np.interp(x, x_fit, f_fit)
    lo = x < x0
    if lo.any():
        k = max(-edge_slope(x_fit, f_fit, "low", slope_w), k_floor)
        f[lo] = max(f_fit[0], 0.0) + k * (x0 - x[lo])
    hi = x > x1
    if hi.any():
        if kind == "bond":
            k = max(edge_slope(x_fit, f_fit, "high", slope_w) * -1.0, k_floor)
            f[hi] = min(f_fit[-1], 0.0) - k * (x[hi] - x1)
        elif kind == "angle":
            f[hi] = f_fit[-1] * (math.pi - x[hi]) / max(math.pi - x1, 1e-12)
        else:  # pair beyond the fitted range but inside the cut-off
            f[hi] = 0.0
    u = integrate_force(x, f)
    if kind == "pair":
        u -= u[-1]
    else:
        u -= u.min()
    return PotentialTable(itype, x, u, f, x0, x1)


def tables_from_fit(result, *, temperature: float = 300.0, wall_kT: float = 10.0,
                    trusted_only: bool = True) -> dict[str, PotentialTable]:
    """Complete tables for every interaction of a :class:`~mapmatters.classical.votca.ForceMatchResult`.

    With ``trusted_only`` the fitted force is used only on each grid's trusted (well-sampled)
    range and extrapolated beyond it.
    """
    out = {}
    for g in result.grids:
        x, f, _ = result.forces[g.name]
        if trusted_only and not g.periodic:
            lo, hi = g.trusted
            m = (x >= lo - 1e-9) & (x <= hi + 1e-9)
            if m.sum() >= 2:
                x, f = x[m], f[m]
        out[g.name] = complete_table(g.itype, x, f, cutoff=result.cutoff if g.itype.kind == "pair" else None,
                                     temperature=temperature, wall_kT=wall_kT)
    return out


# --------------------------------------------------------------------------- LAMMPS table files
def lammps_table_section(table: PotentialTable, keyword: str | None = None) -> str:
    """One section of a LAMMPS table file in ``units real`` for ``table``.

    pair_style/bond_style table: r (A), E (kcal/mol), F = -dE/dr (kcal/mol/A).
    angle_style table: theta (deg, 0..180), E, -dE/dtheta (kcal/mol/deg).
    dihedral_style table (``DEGREES``): phi (deg, -180..<180), E, -dE/dphi (kcal/mol/deg).
    """
    key = keyword or table.itype.name
    kind = table.kind
    e = units.kj_to_kcal(table.energy)
    if kind in ("pair", "bond"):
        xs = units.nm_to_angstrom(table.x)
        fs = units.force_to_real(table.force)
    else:
        xs = np.degrees(table.x)
        fs = units.torque_per_rad_to_real_per_deg(table.force)
    n = len(xs)
    if kind == "pair":
        header = f"N {n} R {xs[0]:.8f} {xs[-1]:.8f}"
    elif kind == "bond":
        eq = xs[int(np.argmin(e))]
        header = f"N {n} EQ {eq:.6f}"
    elif kind == "angle":
        eq = xs[int(np.argmin(e))]
        header = f"N {n} EQ {eq:.6f}"
    else:
        header = f"N {n} DEGREES"
    rows = "".join(f"{i + 1} {a:.8f} {b:.10g} {c:.10g}\n" for i, (a, b, c) in enumerate(zip(xs, e, fs)))
    return f"{key}\n{header}\n\n{rows}\n"


def lammps_table_file(tables: list[PotentialTable], comment: str = "") -> str:
    """A LAMMPS table file holding one section per table (keyword = interaction name)."""
    head = f"# mapmatters classical CG tables (units real){(': ' + comment) if comment else ''}\n\n"
    return head + "".join(lammps_table_section(t) for t in tables)


def read_lammps_table(text: str, keyword: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one section of a LAMMPS table file: (x, E, F) in the file's units."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.split()[:1] == [keyword]:
            n = int(lines[i + 1].split()[1])
            rows = [ln.split() for ln in lines[i + 2:] if ln.strip() and not ln.startswith("#")][:n]
            arr = np.asarray([[float(v) for v in r[1:4]] for r in rows])
            return arr[:, 0], arr[:, 1], arr[:, 2]
    raise KeyError(keyword)
