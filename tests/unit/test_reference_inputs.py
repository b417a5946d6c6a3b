"""GROMACS inputs and the small reference formulas, checked by hand."""
import numpy as np

from mapmatters.reference import mdp
from mapmatters.reference.gromacs import parse_xvg
from mapmatters.reference.protocol import density_g_cm3


def parse(text):
    return {k.strip(): v.strip() for k, v in (line.split("=", 1) for line in text.splitlines())}


def test_production_mdp_writes_positions_and_forces_together_without_constraints():
    p = parse(mdp.nvt_mdp(cutoff_nm=1.2, dt_ps=0.001, nsteps=100000000, temperature_K=300, tau_t_ps=1.0,
                          output_every_steps=200, seed=3, generate_velocities=False))
    assert p["nstxout"] == p["nstfout"] == "200" and p["nstvout"] == "0"
    assert p["constraints"] == "none"
    assert p["tcoupl"] == "V-rescale" and p["tau-t"] == "1.0" and p["ref-t"] == "300"
    assert p["coulombtype"] == "PME" and p["rcoulomb"] == p["rvdw"] == "1.2"
    assert p["continuation"] == "yes" and p["gen-vel"] == "no"
    assert 200 % int(p["nstcalcenergy"]) == 0 and p["nstenergy"] == "200"


def test_equilibration_mdp_draws_velocities_and_skips_forces():
    p = parse(mdp.nvt_mdp(cutoff_nm=1.2, dt_ps=0.001, nsteps=1000, temperature_K=300, tau_t_ps=1.0,
                          output_every_steps=75, seed=3, generate_velocities=True, write_forces=False))
    assert p["gen-vel"] == "yes" and p["gen-seed"] == "3" and p["nstfout"] == "0"
    assert 75 % int(p["nstcalcenergy"]) == 0


def test_hexane_density_at_experimental_value():
    # 100 x C6H14 (86.178 g/mol) in a 2.7957 nm cube: 8617.8 amu x 1.66054e-24 g / 21.851e-21 cm^3
    rho = density_g_cm3(100 * 86.178, np.diag([2.7957] * 3))
    assert abs(rho - 0.6549) < 5e-4


def test_parse_xvg(tmp_path):
    p = tmp_path / "e.xvg"
    p.write_text('# comment\n@    title "GROMACS Energies"\n@    xaxis  label "Time (ps)"\n'
                 '@ s0 legend "Temperature"\n@ s1 legend "Pressure"\n0.0 299.5 1.0\n0.2 301.5 -1.0\n')
    df = parse_xvg(p)
    assert list(df.columns) == ["Time (ps)", "Temperature", "Pressure"]
    assert np.isclose(df["Temperature"].mean(), 300.5)
