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
    assert len(s["barrier_per_walker_kJ_mol"]) == 2 and s["barrier_walker_sd_kJ_mol"] >= 0
    assert s["barrier_kcal_mol"] == pytest.approx(s["barrier_kJ_mol"] / 4.184)
    # the headline barrier is the walker-averaged F's; with two walkers the jackknife error is
    # half the difference of the two single-walker barriers
    assert s["barrier_kJ_mol"] == pytest.approx(s["barrier_walker_averaged_F_kJ_mol"])
    loo = s["barrier_leave_one_out_kcal_mol"]
    assert s["barrier_err_kcal_mol"] == pytest.approx(abs(loo[0] - loo[1]) / 2, rel=1e-6)
    assert abs(s["top_frame"]["improper_deg"]) > 60      # nowhere near planar, but the nearest one
    assert np.shape(s["F_per_walker_kJ_mol"]) == (360, 2)


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

