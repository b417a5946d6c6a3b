"""Physical constants and unit conversion factors: the one place they are written.

Bottom of the package: imports only the standard library.

Inside the package everything is in GROMACS units: nm, ps, kJ/mol, amu, K, rad (kJ/mol/nm
for forces). Conversion factors are named ``A_TO_B`` (multiply a value in A by it to get
B) and are derived from the SI-exact constants below rather than typed in:

- 1 kJ/mol per particle = 1000 J / N_A = 1.66053907e-21 J = 1.0364269e-2 eV = 10.364269 meV;
  per nm = per 10 A, so **1 kJ/mol/nm = 1.0364269 meV/A** (not 10.36: that is meV per kJ/mol).
- k_B in kJ/mol/K = k_B N_A / 1000 = R / 1000 = 0.00831446261815324 (what GROMACS computes
  as BOLTZ = RGAS / KILO; its manual prints it as 0.0083144626181532).
- 1 amu nm^2 / ps^2 = 1.66053907e-27 kg * 1e-18 m^2 / 1e-24 s^2 = 1.66053907e-21 J per
  particle = 1 kJ/mol: with nm, ps, amu the energy unit is kJ/mol, no conversion factor.
- LAMMPS ``units real`` uses Angstrom, fs, kcal/mol with the thermochemical calorie
  (1 cal = 4.184 J exactly).
"""
from __future__ import annotations

import math

# --------------------------------------------------------------- SI constants
AVOGADRO = 6.02214076e23             # 1/mol (exact, SI 2019)
ELEMENTARY_CHARGE = 1.602176634e-19  # C (exact)
BOLTZMANN_J_K = 1.380649e-23         # J/K (exact)
PLANCK_J_S = 6.62607015e-34          # J s (exact)
ATOMIC_MASS_KG = 1.66053906660e-27   # kg (CODATA 2018)

# --------------------------------------------------------------- lengths, times, angles
NM_TO_ANGSTROM = 10.0                # 1 nm in Angstrom
ANGSTROM_TO_NM = 0.1
PS_TO_FS = 1000.0                    # 1 ps in fs
RAD_TO_DEG = 180.0 / math.pi         # 1 rad in degrees

# --------------------------------------------------------------- energies
KCAL_TO_KJ = 4.184                   # thermochemical calorie (LAMMPS ``real``)
KJ_TO_KCAL = 1.0 / KCAL_TO_KJ        # 0.2390057 kcal per kJ
KJ_MOL_TO_EV = 1000.0 / AVOGADRO / ELEMENTARY_CHARGE          # 0.0103642688 eV per kJ/mol
EV_TO_KJ_MOL = 1.0 / KJ_MOL_TO_EV                              # 96.485332 kJ/mol per eV
KJ_MOL_TO_MEV = KJ_MOL_TO_EV * 1000.0                          # 10.3642688 meV per kJ/mol
KJ_MOL_NM_TO_MEV_A = KJ_MOL_TO_MEV / NM_TO_ANGSTROM            # 1.03642688 meV/A per kJ/mol/nm
KJ_MOL_NM_TO_KCAL_MOL_A = KJ_TO_KCAL / NM_TO_ANGSTROM          # kcal/mol/A per kJ/mol/nm

# --------------------------------------------------------------- thermal, masses
KB_KJ_MOL_K = BOLTZMANN_J_K * AVOGADRO / 1000.0                # 0.0083144626 kJ/mol/K (= R/1000)
PLANCK_KJ_MOL_PS = PLANCK_J_S * AVOGADRO / 1000.0 / 1e-12     # 0.39903 kJ/mol ps (h per mole)
AMU_NM2_PS2_TO_KJ_MOL = ATOMIC_MASS_KG * 1e-18 / 1e-24 * AVOGADRO / 1000.0  # 1.0 (to 1e-9)


def kT(temperature_k: float) -> float:
    """k_B T in kJ/mol for a temperature in K."""
    return KB_KJ_MOL_K * temperature_k
