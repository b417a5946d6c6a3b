"""Unit conversions at the edges of the classical pipeline.

Inside the package everything is GROMACS units (nm, ps, kJ/mol, rad, amu, K).
LAMMPS ``units real`` uses Angstrom, fs, kcal/mol, degrees (in table files) and amu.
Only the LAMMPS writers and readers call these functions.
"""
from __future__ import annotations

import numpy as np

# The constants live in mapmatters.units; these are the names the LAMMPS edge uses.
from ..units import KB_KJ_MOL_K, KJ_TO_KCAL, NM_TO_ANGSTROM, PS_TO_FS, RAD_TO_DEG

__all__ = ["KB_KJ_MOL_K", "KJ_TO_KCAL", "NM_TO_ANGSTROM", "PS_TO_FS", "RAD_TO_DEG"]


def nm_to_angstrom(x):
    """Length nm -> Angstrom."""
    return np.asarray(x, dtype=float) * NM_TO_ANGSTROM


def angstrom_to_nm(x):
    """Length Angstrom -> nm."""
    return np.asarray(x, dtype=float) / NM_TO_ANGSTROM


def kj_to_kcal(e):
    """Energy kJ/mol -> kcal/mol."""
    return np.asarray(e, dtype=float) * KJ_TO_KCAL


def kcal_to_kj(e):
    """Energy kcal/mol -> kJ/mol."""
    return np.asarray(e, dtype=float) / KJ_TO_KCAL


def force_to_real(f):
    """Force kJ/mol/nm -> kcal/mol/Angstrom (LAMMPS real units)."""
    return np.asarray(f, dtype=float) * KJ_TO_KCAL / NM_TO_ANGSTROM


def force_from_real(f):
    """Force kcal/mol/Angstrom -> kJ/mol/nm."""
    return np.asarray(f, dtype=float) / KJ_TO_KCAL * NM_TO_ANGSTROM


def torque_per_rad_to_real_per_deg(f):
    """Angular force -dU/dtheta: kJ/mol/rad -> kcal/mol/degree (LAMMPS angle/dihedral tables).

    LAMMPS angle tables (and dihedral tables with ``DEGREES``) give -dE/dtheta per degree,
    so the value shrinks by pi/180 on top of the energy conversion.
    """
    return np.asarray(f, dtype=float) * KJ_TO_KCAL / RAD_TO_DEG


def ps_to_fs(t):
    """Time ps -> fs."""
    return np.asarray(t, dtype=float) * PS_TO_FS


def friction_to_damp_fs(friction_per_ps: float) -> float:
    """Langevin friction coefficient gamma (1/ps, GROMACS ``bd-fric``-style / the paper's 100/ps)
    -> LAMMPS ``fix langevin`` damping time in fs (``units real``).

    LAMMPS' damp is the relaxation time 1/gamma: 100/ps -> 0.01 ps -> 10 fs.
    """
    if friction_per_ps <= 0:
        raise ValueError("friction must be positive")
    return PS_TO_FS / float(friction_per_ps)


def ns_per_day(simulated_ps: float, wall_seconds: float) -> float:
    """Simulation speed in ns/day from simulated time (ps) and wall-clock time (s)."""
    if wall_seconds <= 0:
        raise ValueError("wall time must be positive")
    return simulated_ps / 1000.0 * 86400.0 / wall_seconds
