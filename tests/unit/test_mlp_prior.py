"""Harmonic priors by Boltzmann inversion: fitted parameters, types, JAX energy and forces against
numpy and finite differences, the model energy E_MLP + E_prior, and training with a prior."""
import json
import math
import pickle

import numpy as np
import pytest

from mapmatters.mlp import compat

ok, why = compat.stack_available()
pytestmark = pytest.mark.skipif(not ok, reason=why)

KT300 = 0.0083144626181532 * 300.0


def _chains(n_frames=400, seed=3):
    """A-B-A three-bead chains (species 0, 1, 0), bonds 0.15 +- 0.01 nm, angle 1.9 +- 0.1 rad,
    two chains per frame, in a 1.0 nm box with one chain across the boundary."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n_frames):
        beads = []
        for c in range(2):
            b1, b2 = 0.15 + 0.01 * rng.normal(size=2)
            th = 1.9 + 0.1 * rng.normal()
            x1 = np.array([0.95 if c == 0 else 0.4, 0.5, 0.5])
            x0 = x1 + b1 * np.array([1.0, 0.0, 0.0])
            x2 = x1 + b2 * np.array([math.cos(th), math.sin(th), 0.0])
            beads += [x0, x1, x2]
        frames.append(np.mod(np.asarray(beads), 1.0))
    R = np.asarray(frames)
    species = np.array([0, 1, 0, 0, 1, 0])
    bonds = np.array([[0, 1], [2, 1], [3, 4], [4, 5]])     # one written backwards: same type
    angles = np.array([[0, 1, 2], [3, 4, 5]])
    return R, species, bonds, angles, np.full(3, 1.0)


def test_fit_recovers_the_distribution_and_types():
    from mapmatters.mlp.prior import fit_prior

    R, sp, bonds, angles, side = _chains()
    p = fit_prior(R, sp, bonds, angles, side, temperature_K=300.0)
    assert p["bonds"]["species"] == [[0, 1]] and p["bonds"]["type"] == [0, 0, 0, 0]
    assert p["bonds"]["x0"][0] == pytest.approx(0.15, abs=1e-3)          # across the box edge too
    assert p["bonds"]["k"][0] == pytest.approx(KT300 / 0.01 ** 2, rel=0.1)
    assert p["angles"]["species"] == [[0, 1, 0]] and p["angles"]["n_values"] == [800]
    assert p["angles"]["x0"][0] == pytest.approx(1.9, abs=0.01)
    assert p["angles"]["k"][0] == pytest.approx(KT300 / 0.1 ** 2, rel=0.1)
    only = fit_prior(R, sp, bonds, angles, side, terms=["bonds"])
    assert "angles" not in only and only["terms"] == ["bonds"]
    with pytest.raises(ValueError, match="unknown"):
        fit_prior(R, sp, bonds, angles, side, terms=["dihedrals"])
    json.dumps(p)                                                         # the model config carries it


def test_jax_energy_and_forces_match_numpy_and_finite_differences():
    import jax.numpy as jnp

    from mapmatters.mlp.prior import fit_prior, prior_energy_fn, prior_energy_numpy, prior_forces

    R, sp, bonds, angles, side = _chains(50)
    p = fit_prior(R, sp, bonds, angles, side)
    e_np = prior_energy_numpy(p, R[:5], side)
    e_jx = np.array([float(prior_energy_fn(p, side)(jnp.asarray(r, jnp.float32))) for r in R[:5]])
    np.testing.assert_allclose(e_jx, e_np, rtol=1e-4)
    # the mean prior energy of Boltzmann-like samples is about kT/2 per term (6 terms per frame)
    assert np.mean(prior_energy_numpy(p, R, side)) == pytest.approx(6 * KT300 / 2, rel=0.2)
    F = prior_forces(p, R[:2], side)[0]
    h, x = 1e-5, R[0].astype(np.float64)
    for i, a in [(0, 0), (1, 1), (2, 0), (5, 2)]:
        xp, xm = x.copy(), x.copy()
        xp[i, a] += h
        xm[i, a] -= h
        fd = -(prior_energy_numpy(p, xp[None], side)[0] - prior_energy_numpy(p, xm[None], side)[0]) / (2 * h)
        assert F[i, a] == pytest.approx(fd, rel=2e-3, abs=0.5)
    np.testing.assert_allclose(F.sum(axis=0), 0.0, atol=1e-2)              # internal forces


def test_training_with_a_prior_fits_it_first_and_learns_the_rest(tmp_path):
    """On the synthetic dimers (bond lengths drawn with sd 0.015 nm) the prior is fitted before
    training (k = kT/0.015^2 within 10%), the output scale comes from the force the prior leaves
    (0.1 nm x its RMS over the training frames), and the saved model carries the fitted prior: its
    energy is the same network's energy plus the prior's; a prior not yet fitted is refused."""
    from test_mlp_train import SMALL, _write_dataset

    from mapmatters.mlp import train as T
    from mapmatters.mlp.prior import prior_forces
    from mapmatters.simulate.potentials import synthetic_dimers

    d = synthetic_dimers(60, seed=2)
    path = tmp_path / "dimers.h5"
    _write_dataset(path, d)
    lines = []
    tcfg = {"epochs": 2, "batch_size": 4, "lr": 5e-3, "test_fraction": 0.2}
    m = T.train(path, tmp_path / "out", {**SMALL, "prior": {"terms": ["bonds"], "temperature_K": 300.0}},
                tcfg, log=lines.append)
    with open(tmp_path / "out" / "params.pkl", "rb") as fh:
        cfg = json.loads(pickle.load(fh)["config"])
    p = cfg["prior"]
    assert p["fitted"] and p["bonds"]["species"] == [[0, 1]]
    assert p["bonds"]["k"][0] == pytest.approx(KT300 / 0.015 ** 2, rel=0.1)
    assert any("[prior] bonds" in s for s in lines)
    tr = T.split_indices(len(d["R"]), T.train_config(tcfg))["training"]
    rest = d["F"][tr].astype(np.float64) - prior_forces(p, d["R"][tr], d["box"])
    assert cfg["energy_scale"] == pytest.approx(0.1 * float(np.sqrt(np.mean(rest ** 2))), rel=1e-4)
    assert np.isfinite(m["testing_force_error"]["rmse_kj_mol_nm"])
    # the trained model's energy = the same parameters without the prior + E_prior
    import jax.numpy as jnp

    from mapmatters.mlp import model as M
    from mapmatters.mlp import neighbors as NB
    from mapmatters.mlp.prior import prior_energy_numpy

    params, mcfg, _ = M.load_params(tmp_path / "out" / "params.pkl")
    with_p = M.build(mcfg, d["species"], d["box"])
    plain = M.build({**mcfg, "prior": None}, d["species"], d["box"])
    nb = NB.allocate(plain.neighbor_fn(capacity_multiplier=1.0), d["R"][0], 256)
    r = jnp.asarray(d["R"][3])
    e1 = float(with_p.energy_fn_template(params)(r, neighbor=nb.update(r)))
    e0 = float(plain.energy_fn_template(params)(r, neighbor=nb.update(r)))
    assert e1 - e0 == pytest.approx(prior_energy_numpy(p, d["R"][3:4], d["box"])[0], rel=1e-3, abs=1e-2)
    with pytest.raises(ValueError, match="not fitted"):
        M.build({**mcfg, "prior": {"terms": ["bonds"]}}, d["species"], d["box"]).energy_fn_template(params)
