"""Chirality metadynamics driver: start frame, CV quadruple, missing-CB error, no-crossing summary."""
import math

import numpy as np
import pytest

from mapmatters.mlp.chirality import chirality_quad, engine_settings, nearest_frame, periodic_distance_deg

ALANINE_CORE_BETA = ["ACE1-C", "ALA2-N", "ALA2-CA", "ALA2-CB", "ALA2-C", "NME3-N"]
ALANINE_CORE = ["ACE1-C", "ALA2-N", "ALA2-CA", "ALA2-C", "NME3-N"]


def test_start_frame_is_nearest_c7eq_with_periodic_distance():
    start = {"phi_deg": -83, "psi_deg": 73}
    phi = np.array([60.0, -80.0, -150.0, 100.0, -83.0])
    psi = np.array([-60.0, 150.0, 160.0, 73.0, -107.0])
    # frame 1 is 77 deg away in psi, frame 4 180 deg; a frame across the +-180 seam:
    phi = np.append(phi, 175.0)     # dphi = 258 -> -102 periodic
    psi = np.append(psi, 73.0)
    pick = nearest_frame(phi, psi, start)
    assert pick["frame"] == 1 and pick["phi_deg"] == -80.0 and pick["psi_deg"] == 150.0
    assert pick["distance_deg"] == pytest.approx(math.hypot(3, 77))
    # periodic: -179 and 179 are 2 degrees apart
    assert periodic_distance_deg([179.0], [0.0], -179.0, 0.0)[0] == pytest.approx(2.0)
    pick = nearest_frame(np.array([170.0, 0.0]), np.array([-170.0, 0.0]), {"phi_deg": -175, "psi_deg": 175})
    assert pick["frame"] == 0 and pick["distance_deg"] == pytest.approx(math.hypot(15, 15))


def test_cv_quadruple_from_bead_names():
    quad, residue = chirality_quad(ALANINE_CORE_BETA, "core-beta")
    assert quad == (1, 2, 3, 4) and residue == "ALA2"
    shuffled = ["ALA2-CB", "ALA2-C", "ALA2-N", "ALA2-H", "ALA2-CA"]
    assert chirality_quad(shuffled, "x")[0] == (2, 4, 0, 1)


def test_mapping_without_cb_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"mapping 'core': the chirality CV needs exactly one residue with beads "
                                         r"N-CA-CB-C \(found 0"):
        chirality_quad(ALANINE_CORE, "core")


def test_engine_settings_take_the_mapping_length():
    block = {"walkers": 4, "length_ps": 100, "length_ps_by_mapping": {"atomistic": 50},
             "start": {"phi_deg": -83, "psi_deg": 73}, "pace_steps": 250}
    assert engine_settings(block, "atomistic") == {"length_ps": 50, "pace_steps": 250}
    assert engine_settings(block, "core-beta")["length_ps"] == 100


def _chiral_system(s0, k):
    """4 free beads N-CA-CB-C (improper order, centre second) with bonds, angles and a deep
    improper well k (1 - cos(s - s0)): the walkers never reach the planar state."""
    import jax.numpy as jnp

    from mapmatters.simulate.md import System
    from mapmatters.simulate.metad import jax_dihedral

    def angle(a, b, c):
        u, v = a - b, c - b
        return jnp.arctan2(jnp.linalg.norm(jnp.cross(u, v)), jnp.dot(u, v))

    def energy(R):
        e = sum(0.5 * 5000.0 * (jnp.linalg.norm(R[i] - R[1]) - 0.15) ** 2 for i in (0, 2, 3))
        e += sum(0.5 * 400.0 * (angle(R[i], R[1], R[j]) - math.radians(109.5)) ** 2
                 for i, j in ((0, 2), (2, 3), (0, 3)))
        return e + k * (1.0 - jnp.cos(jax_dihedral(R, (0, 1, 2, 3)) - s0))

    return System(energy_fn=energy, neighbor_fn=None, masses=np.full(4, 12.0), box=None)


def _tetrahedron():
    c = np.zeros(3)
    d = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1]], float) / math.sqrt(3) * 0.15
    return np.stack([d[0], c, d[1], d[2]]).astype(np.float32)


def test_summary_lower_bound_when_no_walker_crossed(tmp_path):
    pytest.importorskip("jax_md", reason="needs jax-md")
    from mapmatters.geometry import dihedrals
    from mapmatters.mlp.chirality import metad_walkers, summarise

    R = _tetrahedron()
    s0 = float(dihedrals(R, [(0, 1, 2, 3)])[0])
    system = _chiral_system(s0, 150.0)
    settings = {"temperature_K": 300.0, "dt_ps": 0.002, "friction_per_ps": 10.0, "height_kJ_mol": 1.0,
                "sigma_rad": 0.1, "pace_steps": 10, "bias_factor": 5.0, "unbiased_steps": 20,
                "length_ps": 1.0, "frames_every_ps": 0.1, "frames_per_chunk": 5}
    res = metad_walkers(system, R, (0, 1, 2, 3), settings, [1, 2], tmp_path / "work")
    assert res["complete"]
    snaps = np.load(tmp_path / "work" / "snapshots.npz")
    assert snaps["positions"].shape == (2, 2, 4, 3) and snaps["cv"].shape == (2, 2)
    s = summarise(tmp_path / "work" / "hills.h5", s0, snapshots=snaps)
    assert s["transition_seen"] is False and s["n_crossed"] == 0 and s["crossed"] == [False, False]
    assert s["lower_bound_kJ_mol"] is not None and s["lower_bound_if_none_crossed_kJ_mol"] > 0
    assert s["lower_bound_kcal_mol"] == pytest.approx(s["lower_bound_if_none_crossed_kJ_mol"] / 4.184)
    assert s["wait_time_lower_bound_ps"] > 0
    # no crossing: the lower bound instead of a number (the filled start basin's F says nothing
    # about the planar state, which no walker saw)
    assert s["barrier_kcal_mol"] is None and s["barrier_err_kcal_mol"] is None and s["wait_time_ps"] is None
    assert s["barrier_note"] == "no walker crossed: the lower bound stands" and s["n_usable"] == 0
    assert len(s["barrier_per_walker_kJ_mol"]) == 2
    assert abs(s["top_frame"]["improper_deg"]) > 60      # nowhere near planar, but the nearest one
    # every frame's positions are recorded, and both molecules stayed intact under the criterion
    import h5py

    from mapmatters.mlp.chirality import intact_frames
    with h5py.File(tmp_path / "work" / "hills.h5") as f:
        assert f["positions"].shape == (10, 2, 4, 3)
    # bonds of 5000 kJ/mol/nm^2 fluctuate by sqrt(kT/k) = 0.022 nm: 0.1 nm is 4.5 sd
    crit = {"criterion": "molecular", "max_bond_deviation_nm": 0.1}
    intact = intact_frames(tmp_path / "work" / "hills.h5", crit, np.array([[0, 1], [1, 2], [1, 3]]),
                           np.full(3, 0.15))
    assert intact.shape == (10, 2) and intact.all()
    s = summarise(tmp_path / "work" / "hills.h5", s0, intact=intact)
    assert s["n_intact"] == 2 and s["stability_checked"] and s["intact_ps"] == pytest.approx([1.0, 1.0])


def _hand_hills(path, cv, hill_centres, height=2.0, sigma=0.1, bias_factor=5.0):
    """A metadynamics output written by hand: frames every 0.1 ps (cv (F, W)), one hill per frame
    time 0, 0.1, ... at ``hill_centres`` (K, W), all of height ``height`` kJ/mol."""
    import h5py

    cv = np.asarray(cv, np.float32)
    F_, W = cv.shape
    c = np.asarray(hill_centres, np.float32)
    with h5py.File(path, "w") as f:
        f["cv"] = cv
        f["time"] = 0.1 * (np.arange(F_) + 1)
        f["kT"] = np.full((F_, W), 2.494, np.float32)
        f["hills/time"] = 0.1 * np.arange(len(c))
        f["hills/centre"] = c
        f["hills/height"] = np.full(c.shape, height, np.float32)
        f.attrs.update(sigma_rad=sigma, bias_factor=bias_factor, temperature_K=300.0)


def test_walkers_whose_molecule_fell_apart_do_not_count(tmp_path):
    """Walker 0 crosses to the mirror basin intact; walker 1 falls apart after 0.3 ps and only then
    reaches the mirror basin: it has not crossed, its later hills are dropped, and the barrier is
    walker 0's alone."""
    from mapmatters.simulate.metad import analyse_metad, angle_grid, barrier, free_energy, inversion_regions

    s0 = math.radians(120.0)
    reg = inversion_regions(s0)
    F_ = 10
    cv = np.full((F_, 2), s0)
    cv[6:, 0] = -s0                      # walker 0 in the D basin from 0.7 ps
    cv[7:, 1] = -s0                      # walker 1 too, but broken since 0.4 ps
    centres = np.full((F_, 2), s0)
    centres[5:, :] = math.pi             # hills at the planar state from 0.5 ps on
    _hand_hills(tmp_path / "h.h5", cv, centres)
    intact = np.ones((F_, 2), bool)
    intact[3:, 1] = False                # walker 1: frames at 0.4 ps and later are broken
    a = analyse_metad(tmp_path / "h.h5", reg["minimum"], reg["transition"], reg["other"], intact=intact)
    assert a["crossed"] == [True, False] and a["n_crossed"] == 1
    assert a["first_crossing_ps"] == [pytest.approx(0.7), None]
    assert a["intact_ps"] == pytest.approx([1.0, 0.3]) and a["intact_walkers"] == [True, False]
    assert a["usable_walkers"] == [True, False] and a["n_usable"] == 1
    g = angle_grid(360)
    F0 = free_energy(centres[:, 0], np.full(F_, 2.0), 0.1, 5.0, g)
    assert a["barrier_kJ_mol"] == pytest.approx(float(barrier(F0, g, reg["minimum"], reg["transition"])["barrier"]))
    # walker 1 keeps its first four hills (0, 0.1, 0.2, 0.3 ps), all at the start: 4 x 2 kJ/mol there
    assert a["lower_bound_kJ_mol"][1] == pytest.approx(8.0, abs=1e-3)
    # walker 0 escaped at 0.7 ps with the hills of 0-0.6 ps: 5 x 2 at the start, 2 x 2 at the planar state
    assert a["escape_bias_kJ_mol"] == [pytest.approx(6.0, abs=1e-3), None]
    assert a["escape_bias_mean_kJ_mol"] == pytest.approx(6.0, abs=1e-3) and a["escape_bias_sd_kJ_mol"] is None
    # without the mask both walkers count as crossed and usable
    b = analyse_metad(tmp_path / "h.h5", reg["minimum"], reg["transition"], reg["other"])
    assert b["n_crossed"] == 2 and b["n_usable"] == 2
    # nobody intact: no barrier, and the note says why
    intact[5:, 0] = False
    c = analyse_metad(tmp_path / "h.h5", reg["minimum"], reg["transition"], reg["other"], intact=intact)
    assert c["barrier_kJ_mol"] is None and c["F_kJ_mol"] is None and c["n_usable"] == 0
    assert c["barrier_note"].startswith("no walker crossed")   # walker 0 broke before it reached D
    intact[:, 0] = True
    intact[8:, 0] = False                # crossed at 0.7 ps, broke at 0.9 ps
    d = analyse_metad(tmp_path / "h.h5", reg["minimum"], reg["transition"], reg["other"], intact=intact)
    assert d["n_crossed"] == 1 and d["n_usable"] == 0 and d["barrier_kJ_mol"] is None
    assert "crossed but none kept its molecule intact" in d["barrier_note"]
    assert d["escape_bias_kJ_mol"][0] == pytest.approx(6.0, abs=1e-3)     # it crossed intact: it escaped


def test_umbrella_comparison_by_hand():
    from mapmatters.mlp.chirality import compare_barriers

    kT = 0.0083144626181532 * 300.0 / 4.184          # 0.596 kcal/mol
    c = compare_barriers({"barrier_kcal_mol": 13.0, "barrier_err_kcal_mol": 0.6, "temperature_K": 300.0},
                         {"barrier_kcal_mol": 14.0, "barrier_err_kcal_mol": 0.8})
    assert c["difference_kcal_mol"] == pytest.approx(1.0) and c["combined_error_kcal_mol"] == pytest.approx(1.0)
    assert c["tolerance_kcal_mol"] == pytest.approx(2.0) and c["agree"]
    c = compare_barriers({"barrier_kcal_mol": 13.0, "barrier_err_kcal_mol": 0.1}, {"barrier_kcal_mol": 12.0,
                                                                                 "barrier_err_kcal_mol": 0.1})
    # errors this small: the tolerance is 1 k_B T, and 1 kcal/mol is more than that
    assert c["tolerance_kcal_mol"] == pytest.approx(kT, rel=1e-3) and not c["agree"]
    # no barrier on one side: no verdict, and the reason
    c = compare_barriers({"barrier_kcal_mol": 13.0, "barrier_err_kcal_mol": 0.1},
                         {"barrier_kcal_mol": None, "barrier_note": "2 of 24 windows lost their molecule"})
    assert c["agree"] is None and c["difference_kcal_mol"] is None and "2 of 24 windows" in c["rule"]


def test_table_carries_the_umbrella_check(tmp_path):
    import json

    from mapmatters.figures.figure4 import TABLE_COLUMNS, chirality_table

    metad = {"barrier_kcal_mol": 13.0, "barrier_err_kcal_mol": 0.5, "barrier_walker_mean_kcal_mol": 13.4,
             "barrier_walker_sd_kcal_mol": 1.1,
             "wait_time_ps": 1e6, "transition_seen": True, "n_crossed": 3, "n_walkers": 4,
             "first_crossing_ps": [40.5, None, 12.0, 80.0],
             "lower_bound_kcal_mol": None, "length_ps": 100.0, "start": {"frame": 7, "improper_deg": 123.0}}
    umb = {"barrier_kcal_mol": 13.6, "barrier_err_kcal_mol": 0.4,
           "comparison": {"difference_kcal_mol": 0.6, "agree": True}}
    (tmp_path / "m.json").write_text(json.dumps(metad))
    (tmp_path / "u.json").write_text(json.dumps(umb))
    entries = [{"system": "alanine", "variant": "mace", "mapping": "core-beta", "json": str(tmp_path / "m.json"),
                "umbrella": str(tmp_path / "u.json")},
               {"system": "alanine", "variant": "mace", "mapping": "heavy-atom", "json": str(tmp_path / "m.json"),
                "umbrella": None}]
    df = chirality_table(entries, str(tmp_path / "t.csv"))
    assert list(df.columns) == TABLE_COLUMNS
    assert df.loc[0, "umbrella_barrier_kcal_mol"] == 13.6 and df.loc[0, "umbrella_agrees"]
    assert df.loc[0, "umbrella_minus_metad_kcal_mol"] == pytest.approx(0.6)
    assert np.isnan(df.loc[1, "umbrella_barrier_kcal_mol"])
    assert df.loc[0, "first_transition_ps"] == 12.0



def test_figure4_draws_models_without_a_barrier(tmp_path):
    """A model with a barrier gets its F line; one whose walkers all fell apart, and one that never
    crossed, get a legend entry that says so and no line; the umbrella profile of a broken path
    is drawn without a number."""
    import json

    from mapmatters.figures.figure4 import plot_figure4
    from mapmatters.simulate.metad import angle_grid

    g = angle_grid(360)
    X0 = _tetrahedron().astype(float)
    base = {"grid_rad": g.tolist(), "n_walkers": 2, "bead_names": ["N", "CA", "CB", "C"], "quad": [0, 1, 2, 3],
            "start_positions_nm": X0.tolist(), "start": {"improper_deg": 123.0}, "n_intact": 2,
            "lower_bound_kcal_mol": None}
    ok = dict(base, F_kJ_mol=(10 * (1 + np.cos(g))).tolist(), barrier_kcal_mol=4.8, barrier_err_kcal_mol=0.3,
              n_crossed=2, transition_seen=True, F_per_walker_kJ_mol=np.tile(10 * (1 + np.cos(g))[:, None], 2).tolist())
    broken = dict(base, F_kJ_mol=None, barrier_kcal_mol=None, barrier_err_kcal_mol=None, n_crossed=2,
                  transition_seen=True, n_intact=0, F_per_walker_kJ_mol=None)
    stuck = dict(base, F_kJ_mol=None, barrier_kcal_mol=None, barrier_err_kcal_mol=None, n_crossed=0,
                 transition_seen=False, lower_bound_kcal_mol=7.5, F_per_walker_kJ_mol=None)
    umb = {"profile": {"s_rad": [2.0, 2.5, 3.0], "F_kJ_mol": [0.0, None, 5.0], "dF_kJ_mol": [0.1, None, 0.2]},
           "regions_rad": {"minimum": [1.5, 2.7]}, "barrier_kcal_mol": None}
    entries = []
    for name, s in (("ok", ok), ("broken", broken), ("stuck", stuck)):
        (tmp_path / f"{name}.json").write_text(json.dumps(s))
        entries.append({"mapping": name, "json": str(tmp_path / f"{name}.json"), "umbrella": None})
    (tmp_path / "u.json").write_text(json.dumps(umb))
    entries[1]["umbrella"] = str(tmp_path / "u.json")
    (tmp_path / "u0.json").write_text(json.dumps({"profile": None, "barrier_kcal_mol": None}))   # every window broke
    entries[2]["umbrella"] = str(tmp_path / "u0.json")
    plot_figure4(entries, str(tmp_path / "f4.png"))
    assert (tmp_path / "f4.png").stat().st_size > 10_000
