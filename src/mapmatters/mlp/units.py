"""Unit constants (GROMACS units inside the package: nm, ps, kJ/mol, amu, K).

Derived from SI-exact CODATA 2018 constants, not typed in:

- 1 kJ/mol per particle = 1000 J / N_A = 1.66053907e-21 J = 1.0364269e-2 eV = 10.364269 meV;
  per nm = per 10 A, so **1 kJ/mol/nm = 1.0364269 meV/A** (not 10.36: that is meV per kJ/mol).
- k_B in kJ/mol/K = k_B N_A / 1000 = R / 1000 = 0.0083144626.
- 1 amu nm^2 / ps^2 = 1.66053907e-27 kg * 1e-18 m^2 / 1e-24 s^2 = 1.66053907e-21 J per
  particle = 1 kJ/mol: with nm, ps, amu the energy unit is kJ/mol, no conversion factor.
"""
AVOGADRO = 6.02214076e23          # 1/mol (exact, SI 2019)
ELEMENTARY_CHARGE = 1.602176634e-19  # C (exact)
BOLTZMANN_J_K = 1.380649e-23      # J/K (exact)
ATOMIC_MASS_KG = 1.66053906660e-27  # kg (CODATA 2018)

KJ_MOL_TO_MEV = 1000.0 / AVOGADRO / ELEMENTARY_CHARGE * 1000.0   # 10.3642688 meV per kJ/mol
KJ_MOL_NM_TO_MEV_A = KJ_MOL_TO_MEV / 10.0                           # 1.03642688 meV/A per kJ/mol/nm
KB_KJ_MOL_K = BOLTZMANN_J_K * AVOGADRO / 1000.0                     # 0.0083144626 kJ/mol/K
AMU_NM2_PS2_TO_KJ_MOL = ATOMIC_MASS_KG * 1e-18 / 1e-24 * AVOGADRO / 1000.0  # 1.0 (to 1e-9)


def kT(temperature_k: float) -> float:
    """k_B T in kJ/mol."""
    return KB_KJ_MOL_K * temperature_k
