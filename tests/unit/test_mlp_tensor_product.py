"""Tensor products by static slices (mapmatters.mlp.tensor_product) against e3j's own evaluation:
the same map, its derivatives to second order, the same MACE and NequIP forces and force-matching
gradients, and none of the gathers and scatter-adds that made the CPU path slow."""
import numpy as np
import pytest

from mapmatters.mlp import compat

ok, why = compat.stack_available()
pytestmark = pytest.mark.skipif(not ok, reason=why)

#: (x irreps, y irreps, output filter): the default preset's MACE message (node features x
#: spherical harmonics, l <= 1), and one with several multiplicities and parities
CASES = [("0e + 1o", "0e + 1o", None),
         ("2x0e + 1o + 1e", "1o + 2e", "0e + 1o + 1e")]
LAYOUTS = ["TRAILING_CHANNELS", "LEADING_CHANNELS", "E3NN"]
#: the paper-size MACE message (l <= 3 harmonics; 86 coefficients), in mlip's layout
PAPER = ("0e + 1o", "0e + 1o + 2e + 3o", "0e + 1o + 2e + 3o")


def _operands(tp, layout, seed, channels=3, batch=5):
    """Random x, y in the shapes mlip passes: channels on x, y broadcast over them."""
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    dx, dy = tp.source[0].dim, tp.source[1].dim
    if layout == "TRAILING_CHANNELS":
        shapes = (batch, dx, channels), (batch, dy)
    elif layout == "LEADING_CHANNELS":
        shapes = (batch, channels, dx), (batch, dy)
    else:
        shapes = (batch, dx), (batch, dy)
    return tuple(jnp.asarray(rng.normal(size=s), jnp.float32) for s in shapes)


def _tp(x_irreps, y_irreps, target, layout):
    import e3j

    return e3j.core.TensorProduct(source=(x_irreps, y_irreps), target=target, layout=layout,
                                  normalization="SQRT_DIM_OUT")


@pytest.mark.parametrize("case,layout", [(c, lay) for c in CASES for lay in LAYOUTS] +
                         [(PAPER, "TRAILING_CHANNELS")], ids=lambda v: "x".join(v[:2]) if
                         isinstance(v, tuple) else v)
def test_sliced_equals_e3j_with_first_and_second_derivatives(case, layout):
    import jax
    import jax.numpy as jnp

    from mapmatters.mlp import tensor_product as TP

    tp = _tp(*case, layout)
    assert tp.nnz <= TP.MAX_TERMS
    x, y = _operands(tp, layout, seed=len(case[0]))

    def value(x_, y_):
        return tp(x_, y_)

    def scalar(x_, y_):                 # a non-linear read-out, so every coordinate matters
        return jnp.sum(jnp.sin(tp(x_, y_)))

    def second(x_, y_):                 # a gradient of a gradient, as force matching takes
        gx = jax.grad(scalar, argnums=0)(x_, y_)
        return jnp.sum(gx ** 2)

    out = {}
    for method in TP.METHODS:
        with TP.evaluation(method):
            out[method] = (jax.jit(value)(x, y), jax.jit(jax.grad(scalar, (0, 1)))(x, y),
                           jax.jit(jax.grad(second, (0, 1)))(x, y))
    ref, new = out["e3j"], out["sliced"]
    assert ref[0].shape == new[0].shape and new[0].dtype == ref[0].dtype
    assert float(jnp.max(jnp.abs(ref[0]))) > 0.1       # a non-trivial product
    for a, b in zip(jax.tree_util.tree_leaves(ref), jax.tree_util.tree_leaves(new)):
        scale = float(jnp.max(jnp.abs(a))) + 1e-6
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=2e-5 * scale, rtol=0)


def test_the_evaluation_is_restored_and_unknown_methods_are_refused():
    from e3j.core.tensor_product import TensorProduct

    from mapmatters.mlp import tensor_product as TP

    before = TensorProduct.__dict__["_sparse_eval"]
    with TP.evaluation("sliced"):
        assert TensorProduct.__dict__["_sparse_eval"] is TP.sliced_eval
        with TP.evaluation("e3j"):
            assert TensorProduct.__dict__["_sparse_eval"] is TP.library_eval()
        assert TensorProduct.__dict__["_sparse_eval"] is TP.sliced_eval
    assert TensorProduct.__dict__["_sparse_eval"] is before
    with pytest.raises(ValueError, match="choose one of"):
        with TP.evaluation("dense"):
            pass


def _hlo_ops(fn, *args) -> str:
    import jax

    return jax.jit(fn).lower(*args).as_text()


def test_sliced_second_derivative_has_no_gathers_or_scatters():
    """The mechanism: e3j's path pulls back with gathers and aggregates with scatter-adds, and
    their derivatives are more of them; the sliced one has neither, to second order."""
    import jax
    import jax.numpy as jnp

    from mapmatters.mlp import tensor_product as TP

    tp = _tp("2x0e + 1o + 1e", "1o + 2e", "0e + 1o + 1e", "TRAILING_CHANNELS")
    x, y = _operands(tp, "TRAILING_CHANNELS", seed=0)

    def second(x_, y_):
        gx = jax.grad(lambda a: jnp.sum(jnp.sin(tp(a, y_))))(x_)
        return jnp.sum(gx ** 2)

    text = {}
    for method in TP.METHODS:
        with TP.evaluation(method):
            text[method] = _hlo_ops(jax.grad(second, (0, 1)), x, y)
    assert "scatter" in text["e3j"] and "gather" in text["e3j"]
    assert "scatter" not in text["sliced"] and "gather" not in text["sliced"]


def test_large_products_keep_e3j_evaluation():
    """Over MAX_TERMS coefficients the sliced method hands the product to e3j (compile time
    grows too fast): the same gathers and scatter-adds, the same numbers."""
    import jax

    from mapmatters.mlp import tensor_product as TP

    tp = _tp("0e + 1o + 2e", "0e + 1o + 2e + 3o", "0e + 1o + 2e + 3o", "TRAILING_CHANNELS")
    assert tp.nnz > TP.MAX_TERMS
    x, y = _operands(tp, "TRAILING_CHANNELS", seed=1)
    with TP.evaluation("sliced"):
        text = _hlo_ops(tp, x, y)
        z = jax.jit(tp)(x, y)
    with TP.evaluation("e3j"):
        z_ref = jax.jit(tp)(x, y)
    assert "scatter" in text
    np.testing.assert_array_equal(np.asarray(z), np.asarray(z_ref))


@pytest.mark.parametrize("kind", ["mace", "nequip"])
def test_models_give_the_same_forces_and_loss_gradient_either_way(kind):
    """A periodic MACE / NequIP built twice, differing only in the evaluation: the same
    parameters, energies and forces, and the same force-matching parameter gradient."""
    import jax
    import jax.numpy as jnp

    from mapmatters.mlp import model as M

    rng = np.random.default_rng(3)
    box = np.array([1.6, 1.6, 1.6])
    R = jnp.asarray(rng.uniform(0, 1.6, size=(40, 3)), jnp.float32)
    F_ref = jnp.asarray(rng.normal(scale=50.0, size=(40, 3)), jnp.float32)
    species = np.arange(40) % 3
    cfg = {"model": kind, "num_layers": 2, "correlation": 2, "hidden_irreps": "8x0e + 8x1o",
           "max_ell": 1, "radial_mlp_hidden": [8], "nequip_radial_mlp_hidden": [8],
           "r_cut": 0.5, "energy_scale": 10.0}
    models = {m: M.build(cfg, species, box, tensor_products=m) for m in ("e3j", "sliced")}
    nbrs = models["e3j"].neighbor_fn(capacity_multiplier=1.5).allocate(R)
    params = models["e3j"].init(jax.random.PRNGKey(0), R, nbrs)
    p_sliced = models["sliced"].init(jax.random.PRNGKey(0), R, nbrs)
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(p_sliced)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

    res = {}
    for name, m in models.items():
        def loss(p, m=m):
            e = m.energy_fn_template(p)
            f = -jax.grad(lambda r: e(r, neighbor=nbrs))(R)
            return jnp.mean((f - F_ref) ** 2)
        e = m.energy_fn_template(params)
        energy = jax.jit(lambda r, e=e: e(r, neighbor=nbrs))(R)
        forces = jax.jit(jax.grad(lambda r, e=e: -e(r, neighbor=nbrs)))(R)
        res[name] = (energy, forces, jax.jit(jax.grad(loss))(params))
    ref, new = res["e3j"], res["sliced"]
    rms = float(jnp.sqrt(jnp.mean(ref[1] ** 2)))
    assert rms > 1.0
    assert float(new[0]) == pytest.approx(float(ref[0]), rel=1e-5, abs=1e-4)
    np.testing.assert_allclose(np.asarray(new[1]), np.asarray(ref[1]), atol=2e-5 * rms, rtol=0)
    for a, b in zip(jax.tree_util.tree_leaves(ref[2]), jax.tree_util.tree_leaves(new[2])):
        if a.size:
            scale = float(jnp.max(jnp.abs(a))) + 1e-6
            np.testing.assert_allclose(np.asarray(b), np.asarray(a), atol=1e-4 * scale, rtol=0)
