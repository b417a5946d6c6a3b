"""Umbrella windows (the biased-sampling engine with ``bias: umbrella``) and MBAR (PyMBAR): the
exact barrier of a dihedral potential, the window layout, the pulled centre, and that PyMBAR
leaves JAX in 32-bit mode."""
import importlib.util
import math

import numpy as np
import pytest

pytest.importorskip("jax_md", reason="needs jax-md (the mlip/chemtrain stack)")
if importlib.util.find_spec("pymbar") is None:   # not importorskip: that would import it with JAX
    pytest.skip("needs pymbar", allow_module_level=True)
h5py = pytest.importorskip("h5py")

from test_metad import K_DIH, KT300, _bead, _dihedral_system  # noqa: E402  (same exact test system)

# F(phi) = k (1 + cos 2 phi): minima at +-pi/2, barriers 2k = 5 k_B T at 0 and pi. The windows run
# from the -pi/2 basin through the barrier at 0 to +pi/2.
PLANAR = 0.0
SETTINGS = {"bias": "umbrella", "spring_kJ_mol_rad2": 100.0, "pull_ps": 4.0, "temperature_K": 300.0,
            "dt_ps": 0.004, "friction_per_ps": 10.0, "unbiased_steps": 0, "length_ps": 60.0,
            "frames_every_ps": 0.2, "frames_per_chunk": 100}


def test_window_centres_run_through_the_planar_state():
    from mapmatters.simulate.umbrella import path_coordinate, window_centres

    c = window_centres(math.radians(123.0), 7, planar=math.pi, overshoot=0.3)
    x = path_coordinate(c, math.pi)
    # from the start basin (x < 0) through 180 degrees to the mirror basin, evenly spaced
    assert x[0] == pytest.approx(math.radians(123.0) - math.pi - 0.3)
    assert x[-1] == pytest.approx(-x[0])
    np.testing.assert_allclose(np.diff(x), np.diff(x)[0])
    assert abs(math.degrees(c[3])) == pytest.approx(180.0)
    # started in the D basin the windows run the other way
    d = window_centres(math.radians(-123.0), 7, planar=math.pi, overshoot=0.3)
    np.testing.assert_allclose(path_coordinate(d, math.pi), -x, atol=1e-12)
    with pytest.raises(ValueError, match="wrap around"):
        window_centres(0.1, 5, planar=math.pi, overshoot=0.3)


def test_pulled_centre_takes_the_short_arc():
    import jax.numpy as jnp

    from mapmatters.simulate.metad import pulled_centre

    c = jnp.asarray([-2.0, 2.0])             # from +2 rad to -2 rad: through pi, not through 0
    mid = float(pulled_centre(5, c, 10))
    assert abs(abs(mid) - math.pi) < 1e-5
    assert float(pulled_centre(10, c, 10)) == pytest.approx(-2.0)
    assert float(pulled_centre(50, c, 10)) == pytest.approx(-2.0)
    assert float(pulled_centre(0, c, 0)) == pytest.approx(-2.0)


def test_umbrella_mbar_recovers_dihedral_barrier(tmp_path):
    """25 windows x 60 ps (seeds 5-29), MBAR on 0.15 rad bins: the exact 5 k_B T barrier within 0.5 k_B T, the MBAR error bar
    below 0.5 k_B T, and the minimum where it belongs. (Measured: 5.19 +- 0.22 k_B T; on 0.1 rad bins
    5.29, on 0.2 rad bins 5.12: the max / min over noisy bins lean high, as the barrier definition
    takes extrema over bins.)"""
    import jax.numpy as jnp

    from mapmatters.simulate.metad import metad_config, run_metad
    from mapmatters.simulate.umbrella import mbar_profile, umbrella_barrier, window_centres

    system, cv = _dihedral_system()
    c = window_centres(-math.pi / 2, 25, planar=PLANAR, overshoot=0.4)
    W = len(c)
    R0 = np.repeat(_bead(-math.pi / 2)[None, None], W, axis=0)
    s = run_metad(system, R0, cv, SETTINGS, np.arange(W) + 5, tmp_path / "w.h5", log=lambda m: None,
                  window_centres=c)
    assert s["complete"] and s["n_hills"] == 0
    with h5py.File(tmp_path / "w.h5") as f:
        cvs, t, bias = f["cv"][()], f["time"][()], f["bias"][()]
        np.testing.assert_allclose(f.attrs["window_centres_rad"], c, atol=1e-6)
        assert f.attrs["bias"] == "umbrella"
    cfg = metad_config(SETTINGS)
    assert cvs.shape == (cfg["n_frames"], W)
    # the frames' bias is the restraint at the held centre once the pull is over
    late = t > SETTINGS["pull_ps"]
    d = (cvs[late] - c[None]).astype(np.float64)
    d = (d + math.pi) % (2 * math.pi) - math.pi
    np.testing.assert_allclose(bias[late], 0.5 * SETTINGS["spring_kJ_mol_rad2"] * d ** 2, rtol=2e-3, atol=2e-3)
    # each window sits near its centre after the pull
    assert np.all(np.abs(np.mean(d, axis=0)) < 0.35)
    prof = mbar_profile(cvs, c, SETTINGS["spring_kJ_mol_rad2"], 300.0, time_ps=t, discard_ps=8.0, planar=PLANAR)
    b = umbrella_barrier(prof, (-math.pi / 2 - 0.6, -math.pi / 2 + 0.6), (-0.4, 0.4))
    print(f"\numbrella/MBAR barrier {b['barrier_kJ_mol']:.2f} +- {b['barrier_err_kJ_mol']:.2f} kJ/mol = "
          f"{b['barrier_kJ_mol'] / KT300:.2f} kT (exact 5); g = {np.round(prof['statistical_inefficiency'], 1)}")
    assert abs(b["barrier_kJ_mol"] - 2 * K_DIH) < 0.5 * KT300
    assert b["barrier_err_kJ_mol"] < 0.5 * KT300
    assert abs(b["s_min_rad"] + math.pi / 2) < 0.25 and abs(b["s_ts_rad"]) < 0.25
    # the whole profile follows k (1 + cos 2 phi) inside the windows' range (shifted to its minimum)
    ok = np.isfinite(prof["F_kJ_mol"]) & (np.abs(prof["x_rad"]) < math.pi / 2 + 0.3)
    exact = K_DIH * (1 + np.cos(2 * prof["s_rad"][ok]))
    got = prof["F_kJ_mol"][ok]
    assert np.max(np.abs((got - got.mean()) - (exact - exact.mean()))) < 0.6 * KT300
    # frames of a window whose molecule fell apart are dropped; a window left with too few takes no part
    intact = np.ones(cvs.shape, bool)
    intact[:, 3] = False
    intact[len(t) // 2:, 5] = False
    cut = mbar_profile(cvs, c, SETTINGS["spring_kJ_mol_rad2"], 300.0, time_ps=t, discard_ps=8.0, planar=PLANAR,
                       intact=intact)
    assert 3 not in cut["windows_used"] and len(cut["windows_used"]) == W - 1 and cut["n_used"][3] == 0
    assert 0 < cut["n_used"][5] < prof["n_used"][5]
    # every window fell apart: no profile
    assert mbar_profile(cvs, c, SETTINGS["spring_kJ_mol_rad2"], 300.0, time_ps=t, discard_ps=8.0, planar=PLANAR,
                        intact=np.zeros(cvs.shape, bool)) is None
    # PyMBAR was imported with JAX hidden: JAX stays 32-bit for the MD that follows
    assert jnp.zeros(1).dtype == jnp.float32


def test_umbrella_settings_are_checked():
    from mapmatters.simulate.metad import metad_config

    with pytest.raises(ValueError, match="neither 'metad' nor 'umbrella'"):
        metad_config({"bias": "steered"})
    with pytest.raises(ValueError, match="spring_kJ_mol_rad2 must be > 0"):
        metad_config({"bias": "umbrella", "spring_kJ_mol_rad2": 0.0})
    assert metad_config({"bias": "umbrella", "pull_ps": 2.0, "dt_ps": 0.001})["pull_steps"] == 2000
