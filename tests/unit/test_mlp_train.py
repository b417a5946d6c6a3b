"""Force matching with chemtrain: learns a known potential; resumes bitwise after a kill."""
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mapmatters.mlp import compat

ok, why = compat.stack_available()
pytestmark = pytest.mark.skipif(not ok, reason=why)

SMALL = {"num_layers": 1, "correlation": 1, "hidden_irreps": "8x0e + 8x1o", "max_ell": 1,
         "radial_mlp_hidden": [16], "r_cut": 0.5}


def _write_dataset(path, d):
    from mapmatters.cgdata import CGWriter, Topology

    n = d["R"].shape[1]
    top = Topology(species=d["species"], species_names=["A", "B"],
                   bead_names=np.array(["A", "B"] * (n // 2)), masses=d["masses"],
                   molecule=np.repeat(np.arange(n // 2), 2), bonds=d["bonds"],
                   angles=np.zeros((0, 3), int), dihedrals=np.zeros((0, 4), int),
                   exclusions=d["bonds"])
    F = len(d["R"])
    with CGWriter(path, top, periodic=True, attrs={"system": "dimers", "mapping": "test"}) as w:
        w.append(d["R"], d["F"], np.repeat(np.diag(d["box"])[None], F, 0).astype(np.float32),
                 np.arange(F, dtype=float), np.arange(F))


@pytest.fixture(scope="module")
def dimers(tmp_path_factory):
    from mapmatters.simulate.potentials import synthetic_dimers

    d = synthetic_dimers(80, seed=1)
    path = tmp_path_factory.mktemp("ds") / "dimers.h5"
    _write_dataset(path, d)
    return path, d


def test_force_matching_learns_known_potential(tmp_path, dimers):
    """A small MACE learns bonds + soft repulsion: test force RMSE < 25% of the force RMS
    (a zero model scores 100%; ~12% after these 15 epochs). The trained model then runs in
    JAX-MD: NVE drift < 1% of the kinetic energy over 1 ps at dt 0.5 fs (velocity Verlet,
    float32), NVT (Langevin, friction 100/ps) mean temperature 300 K within 6%."""
    from mapmatters.mlp import model as M
    from mapmatters.mlp import train as T
    from mapmatters.units import KJ_MOL_NM_TO_MEV_A

    path, d = dimers
    lines = []
    m = T.train(path, tmp_path, SMALL, {"epochs": 15, "batch_size": 4, "lr": 5e-3,
                                        "test_fraction": 0.2}, log=lines.append)
    err = m["testing_force_error"]
    test_F = d["F"][64:]
    f_rms = float(np.sqrt(np.mean(test_F.astype(float) ** 2)))
    assert m["n_frames"] == {"training": 58, "validation": 6, "testing": 16}
    assert err["rmse_kj_mol_nm"] < 0.25 * f_rms
    assert err["rmse_mev_a"] == pytest.approx(err["rmse_kj_mol_nm"] * KJ_MOL_NM_TO_MEV_A)
    assert m["val_losses"][-1] < 0.2 * m["val_losses"][0]
    assert sum(line.split()[1] == "epoch" for line in lines) == 15  # a progress line per epoch
    params, cfg, extra = M.load_params(tmp_path / "params.pkl")
    assert cfg["avg_num_neighbors"] > 0 and cfg["n_species"] == 2
    assert json.loads((tmp_path / "metrics.json").read_text())["testing_force_error"] == err

    # the trained model in JAX-MD: NVE conserves energy, NVT holds 300 K
    import h5py

    from mapmatters.simulate import md
    from mapmatters.units import KB_KJ_MOL_K

    model = M.build(cfg, d["species"], d["box"])
    system = md.system_from_model(model, params, d["masses"])
    md.run(system, d["R"][:2], tmp_path / "nve.h5", {"ensemble": "nve", "dt_ps": 0.0005, "n_frames": 40,
                                                     "frames_per_chunk": 20, "steps_per_frame": 50},
           seeds=[3, 4], log=lambda m: None)
    with h5py.File(tmp_path / "nve.h5") as f:
        et = f["epot"][()] + f["ekin"][()]
        ek = f["ekin"][()].mean()
    drift = np.abs(et - et[0]).max() / ek
    assert drift < 0.01, f"NVE energy drift {drift:.2e} of the kinetic energy over 1 ps at dt 0.5 fs"
    s = md.run(system, d["R"][:4], tmp_path / "nvt.h5", {"n_frames": 60, "frames_per_chunk": 20,
                                                         "steps_per_frame": 50, "dt_ps": 0.001},
               seeds=[5, 6, 7, 8], log=lambda m: None)
    with h5py.File(tmp_path / "nvt.h5") as f:
        t_mean = f["kT"][20:].mean() / KB_KJ_MOL_K        # after 1 ps (friction 100/ps: equilibrated)
    assert t_mean == pytest.approx(300.0, rel=0.06), t_mean
    assert s["blowup"]["n_blown_up"] == 0


@pytest.mark.slow
def test_resume_after_kill_is_bitwise_identical(tmp_path, dimers):
    """SIGKILL a training subprocess right after epoch 1 is checkpointed, resume it, and
    compare with an uninterrupted run: same epoch count and bit-identical parameters."""
    import jax

    from mapmatters.mlp import train as T

    path, _ = dimers
    tcfg = {"epochs": 3, "batch_size": 8, "lr": 5e-3, "max_frames": 40}
    killed = tmp_path / "killed"
    script = textwrap.dedent(f"""
        import os, signal
        from mapmatters.mlp import train as T
        def kill(epoch):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGKILL)
        T.train({str(path)!r}, {str(killed)!r}, {SMALL!r}, {tcfg!r}, on_epoch_end=kill,
                log=lambda m: None)
    """)
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=600)
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    with open(killed / "checkpoint.pkl", "rb") as fh:
        assert pickle.load(fh)["epoch"] == 1
    assert not (killed / "params.pkl").exists()

    lines = []
    T.train(path, killed, SMALL, tcfg, log=lines.append)
    assert any("[resume]" in x and "epoch 1" in x for x in lines)
    epochs = [x.split()[2] for x in lines if x.split()[1] == "epoch"]
    assert epochs == ["2/3", "3/3"]

    straight = tmp_path / "straight"
    T.train(path, straight, SMALL, tcfg, log=lambda m: None)
    a = pickle.load(open(killed / "checkpoint.pkl", "rb"))
    b = pickle.load(open(straight / "checkpoint.pkl", "rb"))
    assert a["epoch"] == b["epoch"] == 3
    assert a["train_losses"] == b["train_losses"]
    for x, y in zip(jax.tree.leaves(a["params"]), jax.tree.leaves(b["params"])):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(jax.tree.leaves(a["opt_state"]), jax.tree.leaves(b["opt_state"])):
        np.testing.assert_array_equal(x, y)

    # a changed training config (what makes Snakemake rerun the job) is not resumed: it starts over
    lines = []
    T.train(path, straight, SMALL, {**tcfg, "lr": 1e-3, "epochs": 1}, log=lines.append)
    assert any("another model or training config: starting over" in x for x in lines)
    assert pickle.load(open(straight / "checkpoint.pkl", "rb"))["epoch"] == 1


def test_split_and_config_checks():
    from mapmatters.mlp import train as T

    cfg = T.train_config({"test_fraction": 0.1, "val_fraction": 0.1})
    s = T.split_indices(101, cfg)
    assert [len(s[k]) for k in ("training", "validation", "testing")] == [82, 9, 10]
    assert s["testing"][0] == 91  # the held-out frames are the last ones
    assert not set(s["training"]) & set(s["validation"])
    with pytest.raises(ValueError):
        T.train_config({"lr_schedule": 1})


def test_precomputed_neighbours_give_the_same_training(tmp_path, dimers):
    """Edge indices computed once per frame (exact capacity, no list update in the step) give
    the losses and parameters of the list rebuilt in every step (capacity with margin)."""
    from mapmatters.mlp import train as T

    path, d = dimers
    data = T.load_frames(path, max_frames=24)
    out = {}
    for pre in (False, True):
        m = T.train(data, tmp_path / str(pre), SMALL,
                    {"epochs": 2, "batch_size": 4, "lr": 5e-3, "test_fraction": 0.2},
                    log=lambda m: None, precompute_neighbors=pre)
        with open(tmp_path / str(pre) / "params_final.pkl", "rb") as fh:
            out[pre] = (m, pickle.load(fh)["params"])
    (m0, p0), (m1, p1) = out[False], out[True]
    assert m1["neighbours"]["capacity"] < m0["neighbours"]["capacity"]
    np.testing.assert_allclose(m1["train_losses"], m0["train_losses"], rtol=1e-4)
    np.testing.assert_allclose(m1["val_losses"], m0["val_losses"], rtol=1e-4)
    import jax

    for a, b in zip(jax.tree.leaves(p0), jax.tree.leaves(p1)):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-5)
