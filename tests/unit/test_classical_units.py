"""Unit conversions at the LAMMPS edge (nm/kJ/ps <-> A/kcal/fs)."""
import math

import numpy as np
import pytest

from mapmatters.classical import units


def test_length_energy_force():
    assert units.nm_to_angstrom(1.3) == pytest.approx(13.0)
    assert units.angstrom_to_nm(13.0) == pytest.approx(1.3)
    assert units.kj_to_kcal(4.184) == pytest.approx(1.0)
    assert units.kj_to_kcal(1.0) == pytest.approx(0.239006, rel=1e-5)  # TOOLCHAIN.md factor
    assert units.kcal_to_kj(units.kj_to_kcal(7.5)) == pytest.approx(7.5)
    # 41.84 kJ/mol/nm = 10 kcal/mol/nm = 1 kcal/mol/A
    assert units.force_to_real(41.84) == pytest.approx(1.0)
    assert units.force_from_real(units.force_to_real(123.0)) == pytest.approx(123.0)


def test_angular_force_per_degree():
    # U = k theta^2 (rad): -dU/dtheta per degree = -dU/dtheta per rad * pi/180, in kcal
    f_rad = 4.184 * 180.0 / math.pi
    assert units.torque_per_rad_to_real_per_deg(f_rad) == pytest.approx(1.0)


def test_time_friction_speed():
    assert units.ps_to_fs(0.002) == pytest.approx(2.0)
    # paper: friction 100/ps -> LAMMPS damp 0.01 ps = 10 fs
    assert units.friction_to_damp_fs(100.0) == pytest.approx(10.0)
    assert units.friction_to_damp_fs(10.0) == pytest.approx(100.0)
    with pytest.raises(ValueError):
        units.friction_to_damp_fs(0.0)
    # 1000 ps in 86.4 s = 1 ns per 86.4 s = 1000 ns/day
    assert units.ns_per_day(1000.0, 86.4) == pytest.approx(1000.0)
    assert np.allclose(units.nm_to_angstrom([0.1, 0.2]), [1.0, 2.0])
