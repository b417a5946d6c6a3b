"""The JAX side of mapmatters.geometry: jax_space / jax_minimum_image, and free space (no box)
through the MLP model, its neighbour list and MD."""
import numpy as np
import pytest

pytest.importorskip("jax_md", reason="needs jax-md (the mlip/chemtrain stack)")

from mapmatters import geometry as G


def test_jax_space_free_and_periodic():
    import jax.numpy as jnp

    a, b = jnp.array([1.9, 0.2, 0.3]), jnp.array([0.1, 0.2, 0.1])
    disp, shift = G.jax_space(None)
    np.testing.assert_allclose(disp(a, b), [1.8, 0.0, 0.2], atol=1e-6)
    np.testing.assert_allclose(shift(a, jnp.array([5.0, 0, 0])), [6.9, 0.2, 0.3], atol=1e-6)
    for box in (2.0, [2.0, 2.0, 2.0], np.eye(3) * 2.0):
        disp, shift = G.jax_space(box)
        np.testing.assert_allclose(disp(a, b), [-0.2, 0.0, 0.2], atol=1e-6)
        np.testing.assert_allclose(shift(a, jnp.array([0.3, 0, 0])), [0.2, 0.2, 0.3], atol=1e-6)
    with pytest.raises(ValueError):
        G.jax_space(np.array([[2.0, 0, 0], [0.5, 2.0, 0], [0, 0, 2.0]]))


def test_jax_minimum_image_matches_numpy():
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    side = np.array([2.0, 2.5, 3.0])
    d = rng.uniform(-6, 6, (50, 3))
    np.testing.assert_allclose(np.asarray(G.jax_minimum_image(jnp.asarray(d), jnp.asarray(side))),
                               G.minimum_image(d, side), atol=1e-5)
    assert G.jax_minimum_image(d, None) is d
    # differentiable: inside the half box the minimum image is a translation, so |d|^2/2 has gradient d
    g = jax.grad(lambda x: 0.5 * jnp.sum(G.jax_minimum_image(x, jnp.asarray(side)) ** 2))(jnp.array([0.3, -0.2, 2.9]))
    np.testing.assert_allclose(g, [0.3, -0.2, -0.1], atol=1e-5)


@pytest.fixture(scope="module")
def tiny_free_mace():
    from mapmatters.mlp import compat

    ok, why = compat.stack_available()
    if not ok:
        pytest.skip(why)
    import jax
    import jax.numpy as jnp

    from mapmatters.mlp import model as M

    rng = np.random.default_rng(4)
    R = np.cumsum(rng.normal(scale=0.15, size=(6, 3)), axis=0).astype(np.float32) + 3.0
    species = np.array([0, 1, 1, 0, 1, 0])
    m = M.build({"num_layers": 1, "correlation": 2, "hidden_irreps": "4x0e + 4x1o", "max_ell": 1,
                 "radial_mlp_hidden": [8], "r_cut": 0.4}, species, None)
    assert not m.periodic and m.box is None
    nbrs = m.neighbor_fn(capacity_multiplier=3.0).allocate(jnp.asarray(R))
    params = m.init(jax.random.PRNGKey(3), R, nbrs)
    efn = m.energy_fn_template(params)
    energy = jax.jit(lambda r: efn(r, neighbor=nbrs.update(r)))
    forces = jax.jit(lambda r: -jax.grad(lambda x: efn(x, neighbor=nbrs.update(x)))(r))
    return R, energy, forces


def test_tiny_mace_free_space_forces_are_minus_gradient(tiny_free_mace):
    import jax.numpy as jnp

    R, energy, forces = tiny_free_mace
    e0 = float(energy(jnp.asarray(R)))
    F = np.asarray(forces(jnp.asarray(R)), np.float64)
    assert np.isfinite(e0) and np.abs(F).max() > 1e-6
    np.testing.assert_allclose(F.sum(axis=0), 0.0, atol=1e-4 * np.abs(F).max() + 1e-6)  # no net force
    # directional finite differences: (E(R + hV) - E(R - hV)) / 2h = -F . V
    rng = np.random.default_rng(1)
    h = 2e-3
    for _ in range(3):
        V = rng.normal(size=R.shape)
        V /= np.linalg.norm(V)
        ep = float(energy(jnp.asarray(R + h * V, jnp.float32)))
        em = float(energy(jnp.asarray(R - h * V, jnp.float32)))
        assert (ep - em) / (2 * h) == pytest.approx(-np.sum(F * V), rel=0.03, abs=1e-3 * np.abs(F).max())


def test_tiny_mace_free_space_translation_invariance(tiny_free_mace):
    import jax.numpy as jnp

    R, energy, forces = tiny_free_mace
    e0 = float(energy(jnp.asarray(R)))
    F0 = np.asarray(forces(jnp.asarray(R)))
    for t in ([0.37, -1.2, 2.5], [-3.0, 0.0, 0.0]):
        R2 = (R + np.asarray(t, np.float32)).astype(np.float32)   # free space: nothing wraps
        assert float(energy(jnp.asarray(R2))) == pytest.approx(e0, rel=2e-5, abs=2e-5)
        np.testing.assert_allclose(np.asarray(forces(jnp.asarray(R2))), F0, rtol=1e-3,
                                   atol=1e-3 * np.abs(F0).max())


def test_md_of_one_molecule_in_free_space(tmp_path):
    """NVE of a 6-bead chain with no box: energy conserved, positions not wrapped."""
    import h5py
    from jax_md import partition

    from mapmatters.simulate import md
    from mapmatters.simulate import potentials as P

    n = 6
    bonds = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
    R0 = (np.stack([np.arange(n) * 0.2, np.zeros(n), np.zeros(n)], axis=1) - 5.0).astype(np.float32)
    R0[1::2, 1] = 0.05
    efn = P.harmonic_bonds_soft_repulsion(bonds, n, None)
    disp, _ = G.jax_space(None)
    nf = partition.neighbor_list(disp, 1000.0, 0.45, format=partition.Sparse, disable_cell_list=True)
    system = md.System(efn, nf, np.full(n, 14.0), None)
    s = md.run(system, R0[None], tmp_path / "free.h5",
               {"ensemble": "nve", "dt_ps": 0.001, "n_frames": 20, "frames_per_chunk": 10,
                "steps_per_frame": 20, "temperature_K": 100.0,
                # the chain starts far from its bond lengths: k_B T of 10^3-10^4 kJ/mol, which the
                # engine's blow-up guard (50 kJ/mol) would stop; conservation is the test here
                "blowup_kT": 1.0e6}, seeds=[1], log=lambda m: None)
    assert s["n_frames"] == 20
    with h5py.File(tmp_path / "free.h5") as f:
        et = f["epot"][()] + f["ekin"][()]
        pos = f["positions"][()]
        assert len(f.attrs["box"]) == 0
    assert np.abs(et - et[0]).max() < 2e-3 * max(np.abs(et).max(), 1.0)
    assert pos[..., [0, 2]].max() < -3.0         # stayed near x = z = -5 nm: nothing wrapped into a box
