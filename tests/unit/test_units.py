"""Unit constants, derived from SI-exact constants (no copied numbers)."""
import math

from mapmatters import units


def test_force_unit_kj_mol_nm_to_mev_per_angstrom():
    # 1 kJ/mol per particle in eV: 1e3 J / N_A / e
    ev = 1e3 / 6.02214076e23 / 1.602176634e-19
    assert math.isclose(units.KJ_MOL_TO_MEV, ev * 1e3, rel_tol=1e-12)
    # per nm -> per Angstrom divides by 10: 1 kJ/mol/nm = 1.0364 meV/A (10.364 is meV per kJ/mol)
    assert math.isclose(units.KJ_MOL_NM_TO_MEV_A, 1.0364269656, rel_tol=1e-9)


def test_kb_and_mass_units():
    assert math.isclose(units.KB_KJ_MOL_K, 0.0083144626, rel_tol=1e-8)
    assert math.isclose(units.kT(300.0), 2.49433879, rel_tol=1e-8)
    # amu nm^2 / ps^2 is kJ/mol: masses in amu need no conversion with nm, ps, kJ/mol
    assert math.isclose(units.AMU_NM2_PS2_TO_KJ_MOL, 1.0, rel_tol=1e-8)
