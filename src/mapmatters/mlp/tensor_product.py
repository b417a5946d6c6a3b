"""How the equivariant tensor products of mlip's MACE and NequIP are evaluated on the CPU.

mlip builds its layers from e3j's :class:`e3j.core.TensorProduct`: a bilinear map
``z[i] = sum_jk c[i, j, k] x[j] y[k]`` with sparse Clebsch-Gordan coefficients ``c``. Without
e3j's CUDA or TPU kernels, e3j evaluates it as "pull back, multiply, aggregate": one XLA
*gather* of ``x`` and one of ``y`` along the irreps axis by the coefficients' indices, a
product, and one XLA *scatter-add* onto the output coordinates. On a CPU these are generic
index loops over every edge of every frame, and autodiff turns them into more of the same: the
gradient of a gather is a scatter-add, of a scatter-add a gather. Force matching differentiates
the model twice (forces, then the loss's parameter gradient), so the interaction block's
message tensor product becomes a chain of gathers and scatters over arrays of
edges x irreps x channels.

The coefficients are constants known when the model is traced. :func:`sliced_eval` therefore
writes the same map with static slices: each output coordinate is the sum, over its non-zero
coefficients, of ``c * x[..., j] * y[..., k]``, and the coordinates are stacked. XLA fuses
slices, products, sums and the stack into a few loop fusions, and their derivatives are slices
and pads, which fuse as well. The arithmetic is the same; only the order of the additions
differs, so results agree to float rounding (forces to 3e-6 of their RMS in float32,
``tests/unit/test_mlp_tensor_product.py``).

The price is compile time, which grows faster than the number of non-zero coefficients: the
products of the paper-size MACE (16 and 86 coefficients) compile its training step in 39 s
against 19 s with e3j's evaluation, once per job; a product of 215 coefficients took 270 s for
its second derivative against 0.3 s. Products with more than :data:`MAX_TERMS` coefficients
therefore keep e3j's evaluation.

Where it pays (idle 2-core AMD EPYC, hexane three-site, 300 beads, N_avg 20, batch of 4 frames;
``benchmarks/profile_mlp.py --tensor-products e3j sliced``; README, Speed): in training, where
force matching takes a second derivative. One chemtrain batch of the paper-size MACE took 1.75 s
against 3.92 s with e3j's evaluation, of the default size 107-110 ms against 118-135 ms. In MD,
a first derivative, single steps called one at a time showed no gain (default size 33-34 ms
against 28-39 ms; paper size 599 against 587 ms), but the workflow's MD runs compiled chunks of
hundreds of steps, and there the slices pay at the default size: trained hexane models, skin
list with 1.1 slots per pair, one pinned core, two runs each alternating (steps/s, slices
against e3j): four-site ν 2 N_avg 20, one chain, 71.3 / 73.7 against 65.7 / 64.0; three-site
ν 3 N_avg 20, one chain, 90.1 / 89.2 against 76.9 / 85.1; three-site ν 2 N_avg 20, three
chains, 48.2 against 44.1 (5-17 % faster). So training and MD both trace with slices
(:data:`TRAINING`, :data:`MD`; the default of :func:`mapmatters.mlp.model.build`); "e3j" stays
selectable to compare with the library's own evaluation.

:func:`evaluation` selects the method while a model is traced. It only replaces e3j's plain-JAX
path (``UNFUSED``): where e3j is configured for its CUDA or TPU kernels, those run as before.
Coefficients that are not known at trace time, and array layouts other than e3j's three, fall
back to e3j's evaluation.
"""
from __future__ import annotations

import contextlib
import threading

#: the evaluation methods :func:`evaluation` accepts
METHODS = ("sliced", "e3j")
#: the method of training (force matching differentiates the model twice) and of MD (once,
#: in compiled chunks of many steps: 5-17 % faster than e3j's at the default size)
TRAINING, MD = "sliced", "sliced"

#: products with more non-zero coefficients than this keep e3j's evaluation (compile time)
MAX_TERMS = 128

_LOCK = threading.RLock()


def _concrete(coef) -> tuple | None:
    """(indices (nnz, 3), values (nnz,)) of a BCOO coefficient array as numpy, or None when
    they are traced values (not known at trace time)."""
    import jax
    import numpy as np

    if isinstance(coef.indices, jax.core.Tracer) or isinstance(coef.data, jax.core.Tracer):
        return None
    return np.asarray(coef.indices), np.asarray(coef.data)


def sliced_eval(tp, x, y, coef):
    """``z[..., i] = sum_jk c[i, j, k] x[..., j] y[..., k]`` for the e3j tensor product ``tp``
    (its layout and output dimension) with the sparse coefficients ``coef``, as static slices,
    products and sums; the result's shape and broadcasting are those of e3j's ``UNFUSED``
    evaluation. Over :data:`MAX_TERMS` coefficients, or with traced coefficients or another
    layout, e3j's own evaluation."""
    import jax.numpy as jnp
    from e3j.utils.options import Layout

    known = _concrete(coef)
    layout = Layout.parse(tp.layout)
    if known is None or len(known[1]) > MAX_TERMS or \
            layout not in (Layout.TRAILING_CHANNELS, Layout.LEADING_CHANNELS, Layout.E3NN):
        return library_eval()(tp, x, y, coef)
    if layout == Layout.TRAILING_CHANNELS:    # irreps on the axis before the channels
        x, y = tp._broadcast_operands_trailing(x, y)
        axis = -2
    else:
        x, y = tp._broadcast_operands_leading(x, y)
        axis = -1
    indices, values = known

    def coordinate(a, n):
        return a[..., n, :] if axis == -2 else a[..., n]

    terms: list[list] = [[] for _ in range(tp.target.dim)]
    for (i, j, k), c in zip(indices.tolist(), values.tolist()):
        terms[i].append(c * coordinate(x, j) * coordinate(y, k))
    shape = jnp.broadcast_shapes(coordinate(x, 0).shape, coordinate(y, 0).shape)
    dtype = jnp.result_type(x, y)
    z = [sum(t[1:], t[0]).astype(dtype) if t else jnp.zeros(shape, dtype) for t in terms]
    return jnp.stack(z, axis=axis)


_LIBRARY: list = []


def library_eval():
    """e3j's own plain-JAX evaluation (``TensorProduct._sparse_eval``), as installed."""
    if not _LIBRARY:
        from e3j.core.tensor_product import TensorProduct

        _LIBRARY.append(TensorProduct.__dict__["_sparse_eval"])
    return _LIBRARY[0]


@contextlib.contextmanager
def evaluation(method: str = "sliced"):
    """Within the block, e3j tensor products traced on its plain-JAX path are evaluated with
    ``method``: ``"sliced"`` (:func:`sliced_eval`) or ``"e3j"`` (the library's gather, multiply
    and scatter-add). Only tracing is affected: functions already compiled keep the method they
    were traced with."""
    from e3j.core.tensor_product import TensorProduct

    if method not in METHODS:
        raise ValueError(f"tensor product evaluation {method!r}: choose one of {METHODS}")
    with _LOCK:
        library = library_eval()
        before = TensorProduct.__dict__["_sparse_eval"]
        TensorProduct._sparse_eval = sliced_eval if method == "sliced" else library
        try:
            yield
        finally:
            TensorProduct._sparse_eval = before
