"""LAMMPS side of the classical pipeline: tables, data file and sign conventions.

The key check: a system with known analytic bond, angle, (asymmetric) dihedral and pair
potentials is written through our table/data/input writers; LAMMPS' energy and forces of one
configuration (``run 0``) must match numpy's (finite differences of the same energy in nm,
kJ/mol). This tests the unit conversion, the table formats (angle/dihedral per degree), the
dihedral sign convention and the exclusions (``special_bonds``).
"""
import math

import numpy as np
import pytest

from mapmatters.classical import geometry, lammps, units
from mapmatters.classical.model import ModelTopology
from mapmatters.classical.tables import PotentialTable, lammps_table_file, output_grid
from mapmatters.io import write_text

needs_lmp = pytest.mark.skipif(lammps.lmp_binary() is None, reason="LAMMPS 'lmp' is not on PATH")

RC = 0.9
BOND = {("A", "B"): (3000.0, 0.25), ("B", "B"): (4000.0, 0.26)}
ANGLE = (50.0, 2.0)
DIH = (4.0, 1.0)   # U = k (1 + cos(phi - phi0)): not symmetric in phi -> tests the sign convention
PAIR = {("A", "A"): 10.0, ("A", "B"): 6.0, ("B", "B"): 3.0}


def u_bond(r, sp):
    k, r0 = BOND[sp]
    return 0.5 * k * (r - r0) ** 2, -k * (r - r0)


def u_angle(t):
    k, t0 = ANGLE
    return 0.5 * k * (t - t0) ** 2, -k * (t - t0)


def u_dih(p):
    k, p0 = DIH
    return k * (1 + np.cos(p - p0)), k * np.sin(p - p0)


def u_pair(r, sp):
    a = PAIR[sp]
    g = a * np.exp(-(r / 0.3) ** 2)
    x = 1 - (r / RC) ** 2
    s = np.where(r < RC, x ** 2, 0.0)
    ds = np.where(r < RC, -4 * x * r / RC ** 2, 0.0)
    return g * s, -((-2 * r / 0.09) * g * s + g * ds)


def chain_model(n_mol):
    return ModelTopology("CHN", ("A1", "B1", "B2", "A2"), ("A", "B", "B", "A"), (15.0, 14.0, 14.0, 15.0),
                         n_mol, bonds=((0, 1), (1, 2), (2, 3)), angles=((0, 1, 2), (1, 2, 3)),
                         dihedrals=((0, 1, 2, 3),))


def analytic_tables(model):
    tabs = {}
    for it in list(model.bonded_types()) + model.pair_types():
        if it.kind == "pair":
            x = output_grid("pair", RC, RC)
            u, f = u_pair(x, it.species)
        elif it.kind == "bond":
            x = output_grid("bond", 0.4)
            u, f = u_bond(x, it.species)
        elif it.kind == "angle":
            x = output_grid("angle", math.pi)
            u, f = u_angle(x)
        else:
            x = output_grid("dihedral", math.pi)
            u, f = u_dih(x)
        tabs[it.name] = PotentialTable(it, x, u, f, float(x[0]), float(x[-1]))
    return tabs


def total_energy(model, pos, L):
    e = 0.0
    P = pos[None]
    Lf = L[None]
    terms, types = model.global_terms("bond")
    r = geometry.bond_lengths(P, terms, Lf)[0]
    e += sum(u_bond(r[k], types[k].species)[0] for k in range(len(r)))
    terms, _ = model.global_terms("angle")
    e += u_angle(geometry.angles(P, terms, Lf)[0])[0].sum()
    terms, _ = model.global_terms("dihedral")
    e += u_dih(geometry.dihedrals(P, terms, Lf)[0])[0].sum()
    nb = model.beads_per_molecule
    excl = {(m * nb + i, m * nb + j) for m in range(model.n_molecules) for i, j in model.excluded_pairs()}
    i, j, d = geometry.neighbour_pairs(pos, L, RC, excl)
    sp = model.species_per_bead()
    for a, b, r in zip(i, j, d):
        e += u_pair(r, tuple(sorted((sp[a], sp[b]))))[0]
    return float(e)


def random_chains(model, L, rng):
    nb = model.beads_per_molecule
    while True:
        pos = []
        for _ in range(model.n_molecules):
            x = [rng.uniform(0, L, 3)]
            for _ in range(nb - 1):
                v = rng.normal(size=3)
                x.append(x[-1] + 0.25 * v / np.linalg.norm(v))
            pos.extend(x)
        pos = np.asarray(pos)
        _, _, d = geometry.neighbour_pairs(pos, np.full(3, L), 0.12)
        if len(d) == 0:
            return pos


@needs_lmp
def test_lammps_single_point_matches_numpy(tmp_path):
    rng = np.random.default_rng(4)
    model = chain_model(6)
    L = 2.4
    pos = random_chains(model, L, rng)
    box = np.full(3, L)
    tabs = analytic_tables(model)
    order = lammps.bonded_type_order(model)
    write_text(tmp_path / "data.lmp", lammps.lammps_data_text(model, pos, box, order))
    by_kind = {}
    for t in tabs.values():
        by_kind.setdefault(t.kind, []).append(t)
    for kind, ts in by_kind.items():
        write_text(tmp_path / f"{kind}.table", lammps_table_file(ts))
    script = lammps.lammps_system_text(model, tabs, order, cutoff_nm=RC, periodic=True,
                                       pair_table_points=20000, bonded_table_points=20000)
    script += ("thermo_style custom step pe evdwl ebond eangle edihed\n"
               "dump f all custom 1 forces.dump id fx fy fz\ndump_modify f sort id\nrun 0\n")
    write_text(tmp_path / "in.lmp", script)
    lammps.run_lammps(tmp_path)
    thermo = lammps.parse_thermo(tmp_path / "log.lammps")
    _, _, _, cols = next(lammps.iter_dump_frames(tmp_path / "forces.dump"))
    f_lmp = units.force_from_real(np.stack([cols["fx"], cols["fy"], cols["fz"]], axis=1))

    e_np = total_energy(model, pos, box)
    assert float(units.kcal_to_kj(thermo["poteng"].iloc[0])) == pytest.approx(e_np, rel=2e-3, abs=0.05)
    h = 1e-5
    f_np = np.zeros_like(pos)
    for a in range(len(pos)):
        for c in range(3):
            p1, p2 = pos.copy(), pos.copy()
            p1[a, c] += h
            p2[a, c] -= h
            f_np[a, c] = -(total_energy(model, p1, box) - total_energy(model, p2, box)) / (2 * h)
    scale = np.abs(f_np).max()
    assert np.abs(f_lmp - f_np).max() < 0.01 * scale, np.abs(f_lmp - f_np).max() / scale


def test_data_file_and_whole_molecules():
    model = chain_model(2)
    L = np.full(3, 2.0)
    pos = np.array([[1.9, 1.0, 1.0], [0.1, 1.0, 1.0], [0.35, 1.0, 1.0], [0.6, 1.0, 1.0],
                    [1.0, 1.0, 1.0], [1.25, 1.0, 1.0], [1.5, 1.0, 1.0], [1.75, 1.0, 1.0]])
    whole = lammps.make_whole(pos, model, L)
    assert whole[1, 0] == pytest.approx(2.1)  # bead 1 moved next to bead 0 across the boundary
    text = lammps.lammps_data_text(model, pos, L, lammps.bonded_type_order(model))
    assert "8 atoms" in text and "6 bonds" in text and "4 angles" in text and "2 dihedrals" in text
    assert "2 atom types" in text and "2 bond types" in text and "1 dihedral types" in text
    assert "0.000000 20.000000 xlo xhi" in text
    atoms = text.split("Atoms  # molecular\n\n")[1].split("\n\n")[0].splitlines()
    assert atoms[1].split()[:3] == ["2", "1", "2"] and float(atoms[1].split()[3]) == pytest.approx(21.0)
    dih = text.split("Dihedrals\n\n")[1].splitlines()
    assert dih[1].split() == ["2", "1", "5", "6", "7", "8"]


def test_input_script_settings():
    model = chain_model(2)
    tabs = analytic_tables(model)
    s = lammps.LammpsSettings(length_ps=10.0, seed=5)
    text = lammps.lammps_input_text(model, tabs, s, lammps.bonded_type_order(model), cutoff_nm=RC)
    assert "units real" in text and "special_bonds lj 0.0 0.0 0.0" in text
    assert "timestep 2\n" in text and "run 5000" in text
    assert "fix thermostat all langevin 300.0 300.0 10 " in text       # 100/ps -> 10 fs
    assert "dump traj all custom 250 " in text                          # 0.5 ps at 2 fs
    assert "pair_coeff 1 2 pair.table pair_A-B 9.000000" in text
    assert "dihedral_coeff 1 dihedral.table dihedral_A-B-B-A" in text


def test_settings_from_config_block():
    """The config's MD block has LAMMPS' names; the dump (and thermo) every frame_every_ps."""
    md = {"n_runs": 3, "length_ps": 10.0, "dt_ps": 0.002, "frame_every_ps": 0.5, "temperature_K": 300.0,
          "friction_per_ps": 100.0, "frames_per_chunk": 4}
    s = lammps.LammpsSettings.from_config(md, seed=5)
    assert s == lammps.LammpsSettings(length_ps=10.0, seed=5)
    s = lammps.LammpsSettings.from_config({**md, "frame_every_ps": 0.1, "temperature_K": 310.0}, seed=1)
    assert (s.frame_every_ps, s.thermo_every_ps, s.temperature_K) == (0.1, 0.1, 310.0)
    text = lammps.lammps_md_text(s)
    assert "dump traj all custom 50 " in text and "thermo 50\n" in text and "langevin 310.0 310.0 " in text


def test_parse_log(tmp_path):
    log = tmp_path / "log.lammps"
    log.write_text(
        "LAMMPS (7 Jan 2022)\nStep Time Temp PotEng\n0 0 300 -5\n250 500 301.5 -6\n"
        "Loop time of 2.0 on 1 procs for 500 steps with 300 atoms\n\n"
        "Performance: 864.000 ns/day, 0.028 hours/ns, 250.000 timesteps/s\n")
    th = lammps.parse_thermo(log)
    assert list(th.columns) == ["step", "time", "temp", "poteng"] and th["temp"].iloc[1] == 301.5
    perf = lammps.parse_performance(log)
    assert perf == {"loop_seconds": 2.0, "procs": 1, "steps": 500, "atoms": 300, "ns_per_day": 864.0}
