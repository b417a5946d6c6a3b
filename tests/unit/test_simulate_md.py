"""CG dynamics in JAX-MD: temperature, energy conservation, overflow recovery, kill/resume."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

jax_md = pytest.importorskip("jax_md", reason="needs jax-md (the mlip/chemtrain stack)")
h5py = pytest.importorskip("h5py")


def _system(seed=2):
    from jax_md import partition, space

    from mapmatters.simulate import md
    from mapmatters.simulate import potentials as P

    d = P.synthetic_dimers(4, seed=seed)
    n = d["R"].shape[1]
    efn = P.harmonic_bonds_soft_repulsion(d["bonds"], n, d["box"])
    disp, _ = space.periodic(d["box"])
    nf = partition.neighbor_list(disp, d["box"], 0.45, format=partition.Sparse,
                                 disable_cell_list=True)
    return md.System(efn, nf, d["masses"], d["box"]), d


def test_analytic_potential_forces_match_numpy():
    import jax
    import jax.numpy as jnp


    system, d = _system()
    R = d["R"][0]
    nb = system.neighbor_fn.allocate(jnp.asarray(R))
    F = -np.asarray(jax.grad(lambda r: system.energy_fn(r, neighbor=nb))(jnp.asarray(R)))
    np.testing.assert_allclose(F, d["F"][0], rtol=2e-3, atol=2e-3)


def test_nvt_temperature_and_overflow_recovery(tmp_path):
    """Langevin at 300 K (gamma 100/ps, 2 fs): mean kinetic kT within 4% of k_B*300 K over
    4 chains x 60 frames; a neighbour list allocated far too small (10 edges) is re-allocated
    and the run completes."""
    from mapmatters.simulate import md
    from mapmatters.units import kT

    system, d = _system()
    logs = []
    s = md.run(system, d["R"], tmp_path / "nvt.h5",
               {"n_frames": 60, "frames_per_chunk": 20, "steps_per_frame": 50},
               seeds=[1, 2, 3, 4], capacity=10, log=logs.append)
    assert s["reallocations"] >= 1 and s["capacity"] > 10
    assert any("overflow" in x for x in logs)
    assert s["mean_kT"] == pytest.approx(kT(300.0), rel=0.04)
    assert s["blowup"]["n_blown_up"] == 0
    assert s["speed"]["steps_per_s"] > 0 and s["speed"]["ns_per_day"] > 0
    with h5py.File(tmp_path / "nvt.h5") as f:
        assert f["positions"].shape == (60, 4, 24, 3)
        assert f["kT"].shape == (60, 4) and f.attrs["n_frames_done"] == 60
        assert np.allclose(f["time"][:3], [0.1, 0.2, 0.3])
        pos = f["positions"][()]
    assert np.all((pos >= 0) & (pos <= d["box"][0] + 1e-5))  # wrapped
    assert not np.allclose(pos[-1, 0], pos[-1, 1])  # chains differ (different seeds)


def test_run_stops_when_every_chain_has_blown_up(tmp_path):
    """A guard below the bath's k_B T (2.49 kJ/mol) calls every chain blown up in the first
    chunk: the run stops there, the rest of the file is NaN at the planned times, and the one
    chunk that ran is timed (compilation happens before the clock)."""
    from mapmatters.simulate import md

    system, d = _system()
    logs = []
    cfg = {"n_frames": 60, "frames_per_chunk": 10, "steps_per_frame": 20, "blowup_kT": 0.1}
    s = md.run(system, d["R"][:2], tmp_path / "dead.h5", cfg, seeds=[1, 2], log=logs.append)
    assert s["blowup"]["first_blown_up_frame"] == [0, 0]
    assert any("every chain blown up or unstable by frame 10" in x for x in logs)
    assert s["speed"]["timed_steps"] == 10 * 20 and s["speed"]["steps_per_s"] > 0
    with h5py.File(tmp_path / "dead.h5") as f:
        assert f["positions"].shape == (60, 2, 24, 3) and f.attrs["n_frames_done"] == 60
        assert f.attrs["n_frames_simulated"] == 10
        assert np.isfinite(f["positions"][:10]).all() and np.isnan(f["positions"][10:]).all()
        assert np.isnan(f["kT"][10:]).all() and np.isfinite(f["kT"][:10]).all()
        np.testing.assert_allclose(f["time"][()], 0.04 * np.arange(1, 61))


def test_run_stops_once_every_chain_has_left_the_stability_criterion(tmp_path):
    """The bulk criterion with k_B T at most 2 kJ/mol, below the bath's 2.49: both chains leave
    it in the first chunk and the run stops there, though no chain passed the blow-up guard
    (the analysis would drop every later frame). The analysis' verdict is unchanged: the first
    unstable frame lies in the chunk that ran."""
    from mapmatters.analysis.stability import chains_left, stable_time
    from mapmatters.simulate import md

    system, d = _system()
    crit = {"criterion": "bulk", "max_kT_kJ_mol": 2.0}
    logs = []
    s = md.run(system, d["R"][:2], tmp_path / "left.h5",
               {"n_frames": 60, "frames_per_chunk": 10, "steps_per_frame": 20}, seeds=[1, 2],
               log=logs.append, stop_rule=lambda rec: chains_left(crit, kT=rec["kT"]))
    assert s["left_stability_frame"] == [10, 10] and s["blowup"]["first_blown_up_frame"] == [10, 10]
    assert s["n_frames_simulated"] == 10
    assert any("every chain blown up or unstable by frame 10" in x for x in logs)
    with h5py.File(tmp_path / "left.h5") as f:
        kT, t = f["kT"][()], f["time"][()]
    assert np.isfinite(kT[:10]).all() and np.isnan(kT[10:]).all()
    for c in range(2):
        st = stable_time(crit, t, kT=kT[:, c], length_ps=t[-1])
        assert st["first_unstable_frame"] < 10


def test_stopped_chains_survive_a_resume(tmp_path):
    """A rule that sets chain 0 aside: chain 1 still counts, so the run goes on; killed after
    its second chunk and resumed, the loop remembers which chain left and when, and finishes
    every frame."""
    from mapmatters.simulate import md

    system, d = _system()
    cfg = {"n_frames": 40, "frames_per_chunk": 10, "steps_per_frame": 20}

    def rule(rec):
        return np.array([True, False])

    def kill(done):
        if done == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        md.run(system, d["R"][:2], tmp_path / "one.h5", cfg, seeds=[1, 2], stop_rule=rule,
               on_chunk_end=kill, log=lambda m: None)
    s = md.run(system, d["R"][:2], tmp_path / "one.h5", cfg, seeds=[1, 2], stop_rule=lambda rec: np.zeros(2, bool),
               log=lambda m: None)
    assert s["left_stability_frame"] == [10, None]
    assert s["n_frames"] == s["n_frames_simulated"] == 40


def test_only_the_overflowing_list_grows(tmp_path):
    """With a skin the loop keeps two lists: pairs out to r_cut + skin, and those within r_cut
    that the energy sees. A tight cut list (one slot per pair) overflows as the beads move and is
    re-allocated with its chunk redone; the roomy skin list keeps its size (the model works on
    every slot of the cut list, so growing both would slow every later step)."""
    from dataclasses import replace

    from mapmatters.simulate import md

    system, d = _system()                       # list cut-off 0.45 nm: r_cut 0.35 + skin 0.1
    skinned = replace(system, skin=0.1, r_cut=0.35)
    for chains in (1, 2):                       # one chain: the workflow's hexane runs
        logs = []
        s = md.run(skinned, d["R"][:chains], tmp_path / f"cut{chains}.h5",
                   {"n_frames": 40, "frames_per_chunk": 5, "steps_per_frame": 20, "capacity_margin": 1.0},
                   seeds=[1, 2][:chains], capacity=2000, log=logs.append)
        assert s["reallocations"] >= 1 and any("within r_cut ->" in x for x in logs)
        assert s["capacity"] == 2000            # the skin list never overflowed: not grown
        assert 0 < s["capacity_cut"] < 2000


def test_nve_conserves_energy(tmp_path):
    """Velocity Verlet, dt 1 fs, 2 ps: |E_tot drift| < 1e-3 of the kinetic energy."""
    from mapmatters.simulate import md

    system, d = _system()
    s = md.run(system, d["R"][:2], tmp_path / "nve.h5",
               {"ensemble": "nve", "dt_ps": 0.001, "n_frames": 40, "frames_per_chunk": 20,
                "steps_per_frame": 50}, seeds=[5, 6], log=lambda m: None)
    with h5py.File(tmp_path / "nve.h5") as f:
        et = f["epot"][()] + f["ekin"][()]
        ek = f["ekin"][()].mean()
    assert np.abs(et - et[0]).max() < 1e-3 * ek
    assert s["n_frames"] == 40


def test_resume_after_kill_gives_identical_trajectory(tmp_path):
    """SIGKILL after the second chunk, resume, and compare with an uninterrupted run."""
    from mapmatters.simulate import md

    cfg = {"n_frames": 40, "frames_per_chunk": 10, "steps_per_frame": 20}
    out = tmp_path / "killed.h5"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_simulate_md import _system
        from mapmatters.simulate import md
        system, d = _system()
        def kill(done):
            if done == 20:
                os.kill(os.getpid(), signal.SIGKILL)
        md.run(system, d["R"][:2], {str(out)!r}, {cfg!r}, seeds=[3, 4], on_chunk_end=kill,
               log=lambda m: None)
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    with h5py.File(out) as f:
        assert f.attrs["n_frames_done"] == 20
    system, d = _system()
    logs = []
    md.run(system, d["R"][:2], out, cfg, seeds=[3, 4], log=logs.append)
    assert any("resume" in x and "frame 20" in x for x in logs)
    md.run(system, d["R"][:2], tmp_path / "straight.h5", cfg, seeds=[3, 4], log=lambda m: None)
    with h5py.File(out) as a, h5py.File(tmp_path / "straight.h5") as b:
        assert a["positions"].shape == b["positions"].shape == (40, 2, 24, 3)
        np.testing.assert_array_equal(a["positions"][()], b["positions"][()])
        np.testing.assert_array_equal(a["kT"][()], b["kT"][()])


def test_loop_config_derives_counts_and_refuses_bad_multiples():
    """The config's MD block keeps its names in the engine; the loop counts are derived."""
    from mapmatters.simulate.md import MD_DEFAULTS, frame_every_ps, loop_config

    md = {"length_ps": 10, "dt_ps": 0.002, "frame_every_ps": 0.5, "temperature_K": 300.0,
          "friction_per_ps": 100.0, "n_runs": 3, "frames_per_chunk": 4}
    s = loop_config(md)
    assert s["steps_per_frame"] == 250 and s["n_frames"] == 20 and s["frames_per_chunk"] == 4
    assert s["temperature_K"] == 300.0 and s["dt_ps"] == 0.002 and s["friction_per_ps"] == 100.0
    assert set(s) == set(MD_DEFAULTS) and frame_every_ps(s) == 0.5
    assert loop_config({k: v for k, v in md.items() if k != "frames_per_chunk"})["frames_per_chunk"] == 20
    assert s["skin"] == 0.0 and loop_config({**md, "skin": 0.1})["skin"] == 0.1
    assert s["capacity_margin"] == MD_DEFAULTS["capacity_margin"]
    assert loop_config({**md, "capacity_margin": 1.1})["capacity_margin"] == 1.1
    with pytest.raises(ValueError, match="capacity_margin"):
        loop_config({**md, "capacity_margin": 0.9})
    with pytest.raises(ValueError, match="multiple of dt_ps"):
        loop_config({**md, "frame_every_ps": 0.501})
    with pytest.raises(ValueError, match="divide length_ps"):
        loop_config({**md, "length_ps": 10.25})


def test_blow_up_guard():
    """The engine only marks chains that blew up (kB T > 50 kJ/mol or not finite); a hot chain
    below the guard is the stability analysis' business, not the engine's."""
    from mapmatters.simulate.md import blown_up

    kT = np.full((10, 3), 2.5)
    kT[4, 1] = 55.0
    kT[7:, 2] = np.nan
    kT[2, 0] = 6.0          # unstable by the bulk criterion (5 kJ/mol) but not blown up
    s = blown_up(kT, 0.5)
    assert s["first_blown_up_frame"] == [10, 4, 7]
    assert s["blown_up_ps"] == [5.0, 2.0, 3.5]
    assert s["n_blown_up"] == 2


def test_mace_system_runs_vmapped_chains(tmp_path):
    """An (untrained, tiny) MACE model drives 2 vmapped Langevin chains through the same loop."""
    from mapmatters.mlp import compat

    ok, why = compat.stack_available()
    if not ok:
        pytest.skip(why)
    import jax
    import jax.numpy as jnp

    from mapmatters.mlp import model as M
    from mapmatters.simulate import md

    _, d = _system()
    m = M.build({"num_layers": 1, "correlation": 1, "hidden_irreps": "4x0e + 4x1o",
                 "max_ell": 1, "radial_mlp_hidden": [8]}, d["species"], d["box"])
    nb = m.neighbor_fn().allocate(jnp.asarray(d["R"][0]))
    params = m.init(jax.random.PRNGKey(0), d["R"][0], nb)
    params = jax.tree.map(lambda x: 1e-3 * x, params)  # keep the random model gentle
    system = md.system_from_model(m, params, d["masses"])
    s = md.run(system, d["R"][:2], tmp_path / "mace.h5",
               {"n_frames": 4, "frames_per_chunk": 2, "steps_per_frame": 10},
               seeds=[0, 1], log=lambda m: None)
    assert s["n_frames"] == 4 and np.isfinite(s["mean_kT"])


def _mace_system(skin=0.0):
    import jax

    from mapmatters.mlp import model as M
    from mapmatters.simulate import md

    _, d = _system()
    m = M.build({"num_layers": 1, "correlation": 1, "hidden_irreps": "4x0e + 4x1o",
                 "max_ell": 1, "radial_mlp_hidden": [8]}, d["species"], d["box"])
    nb = m.neighbor_fn().allocate(jax.numpy.asarray(d["R"][0]))
    params = m.init(jax.random.PRNGKey(0), d["R"][0], nb)
    params = jax.tree.map(lambda x: 1e-3 * x, params)
    return md.system_from_model(m, params, d["masses"], skin=skin), m, params, d


def _mace_run(path, skin, cfg):
    """Two chains of the tiny MACE system (:func:`_mace_system`) run to ``path``: the run's
    summary, its positions / epot / kT, and the box."""
    from mapmatters.simulate import md

    system, *_, d = _mace_system(skin)
    s = md.run(system, d["R"][:2], path, cfg, seeds=[0, 1], log=lambda m: None)
    with h5py.File(path) as f:
        return s, {k: f[k][()] for k in ("positions", "epot", "kT")}, d["box"]


def _assert_same_trajectory(a, b, box, pos_nm, rtol, epot_atol):
    """Trajectories ``a`` and ``b`` agree: positions (wrapped into the box, so compared as
    minimum-image differences) within ``pos_nm``, energies and kT to ``rtol``."""
    side = np.asarray(box, np.float32)
    dpos = a["positions"] - b["positions"]
    dpos -= side * np.round(dpos / side)
    assert np.max(np.abs(dpos)) < pos_nm
    np.testing.assert_allclose(a["epot"], b["epot"], rtol=rtol, atol=epot_atol)
    np.testing.assert_allclose(a["kT"], b["kT"], rtol=rtol)


def test_skin_list_gives_the_same_trajectory(tmp_path):
    """A neighbour list with a skin (rebuilt only when a bead has moved skin/2, cut down to
    r_cut for the model) gives the trajectory of the list rebuilt every step."""
    from mapmatters.mlp import compat

    ok, why = compat.stack_available()
    if not ok:
        pytest.skip(why)
    cfg = {"n_frames": 4, "frames_per_chunk": 2, "steps_per_frame": 10}
    out = {}
    for skin in (0.0, 0.1):
        s, out[skin], box = _mace_run(tmp_path / f"s{skin}.h5", skin, cfg)
        assert s["reallocations"] == 0
    _assert_same_trajectory(out[0.1], out[0.0], box, 1e-4, rtol=1e-4, epot_atol=1e-3)


def test_slot_margin_changes_the_work_not_the_trajectory(tmp_path):
    """``capacity_margin`` sizes the neighbour lists (padding slots the model works on), not the
    physics: 1.5 and 1.0 give the same trajectory, and the tight list that overflows as the
    beads move is re-allocated with its chunk redone."""
    from mapmatters.mlp import compat

    ok, why = compat.stack_available()
    if not ok:
        pytest.skip(why)
    out, runs = {}, {}
    for margin in (1.5, 1.0):
        cfg = {"n_frames": 4, "frames_per_chunk": 2, "steps_per_frame": 10, "capacity_margin": margin}
        runs[margin], out[margin], box = _mace_run(tmp_path / f"m{margin}.h5", 0.1, cfg)
    assert runs[1.0]["capacity"] < runs[1.5]["capacity"]
    assert runs[1.5]["reallocations"] == 0 and runs[1.0]["reallocations"] >= 1
    _assert_same_trajectory(out[1.0], out[1.5], box, 1e-5, rtol=1e-5, epot_atol=1e-4)


def test_model_ignores_pairs_beyond_cutoff():
    """Energies and forces from a list built with a skin (pairs out to r_cut + skin) equal
    those from the list without skin: the graph masks pairs by the true cut-off."""
    from mapmatters.mlp import compat

    ok, why = compat.stack_available()
    if not ok:
        pytest.skip(why)
    import jax
    import jax.numpy as jnp

    _, m, params, d = _mace_system()
    efn = m.energy_fn_template(jax.tree.map(lambda x: 1e3 * x, params))
    R = jnp.asarray(d["R"][3])
    nb0 = m.neighbor_fn().allocate(R)
    nb1 = m.neighbor_fn(skin=0.15).allocate(R)
    assert int(np.sum(np.asarray(nb1.idx[0]) < R.shape[0])) > \
        int(np.sum(np.asarray(nb0.idx[0]) < R.shape[0]))
    e0, f0 = jax.value_and_grad(lambda r: efn(r, neighbor=nb0))(R)
    e1, f1 = jax.value_and_grad(lambda r: efn(r, neighbor=nb1))(R)
    np.testing.assert_allclose(float(e1), float(e0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(np.asarray(f1), np.asarray(f0), rtol=1e-4,
                               atol=1e-4 * float(np.max(np.abs(f0))))
