"""Unit constants of the MLP code: re-exported from :mod:`mapmatters.units`, where they live.

(GROMACS units inside the package: nm, ps, kJ/mol, amu, K; see :mod:`mapmatters.units` for
how each factor is derived from SI-exact constants.)
"""
from ..units import (
    AMU_NM2_PS2_TO_KJ_MOL,
    ATOMIC_MASS_KG,
    AVOGADRO,
    BOLTZMANN_J_K,
    ELEMENTARY_CHARGE,
    KB_KJ_MOL_K,
    KJ_MOL_NM_TO_MEV_A,
    KJ_MOL_TO_MEV,
    kT,
)

__all__ = ["AMU_NM2_PS2_TO_KJ_MOL", "ATOMIC_MASS_KG", "AVOGADRO", "BOLTZMANN_J_K", "ELEMENTARY_CHARGE",
           "KB_KJ_MOL_K", "KJ_MOL_NM_TO_MEV_A", "KJ_MOL_TO_MEV", "kT"]
