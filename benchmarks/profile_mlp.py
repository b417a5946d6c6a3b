#!/usr/bin/env python
"""Where the time of one MLP training step and one JAX-MD step goes (default model size).

    PYTHONPATH=src .venv/bin/python benchmarks/profile_mlp.py \
        --dataset results/ci/hexane/cg/three-site.h5 [--n-avg 20] [--xla-flags "..."]

Each part is a separately jitted function, timed as the median of ``--reps`` calls after a
compiling call (``block_until_ready``), on the same batch:

- training (batch ``--batch`` frames, vmapped as chemtrain does):
  ``nbr``  neighbour-list rebuild; ``graph``  neighbour list -> mlip graph (edge vectors);
  ``energy``  forward pass; ``forces``  energy + forces (-dE/dR); ``loss+grad``  force-matching
  loss and its parameter gradient (force-of-force) with the neighbour list rebuilt inside
  (chemtrain's path) and with precomputed edge indices (``idx``); ``chemtrain``  wall time per
  batch of a chemtrain ForceMatching epoch, the difference to ``loss+grad`` being host work
  and the optimizer update;
- MD (``--chains`` vmapped chains, BAOAB): one step with the list rebuilt every step, the
  integrator step on a fixed list, and the rebuild alone.

XLA flags and threads follow ``mapmatters.mlp.runtime.configure`` (threads 1 by default, as
the workflow runs MLP jobs), and so does the heap (kept for reuse, ``mlp_runtime.keep_heap``;
``--no-keep-heap``: glibc's defaults). ``--tensor-products e3j sliced e3j sliced`` times the
model's rows (not the list and graph rows) with e3j's own tensor products and with static slices
(``mapmatters.mlp.tensor_product``), alternating in one process; by default only with slices.
Prints a table; nothing is written.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

DEFAULT_MODEL = {"model": "mace", "hidden_irreps": "8x0e + 8x1o", "readout_irreps": "8x0e",
                 "max_ell": 1, "num_rbf": 8, "radial_mlp_hidden": [16, 16], "num_layers": 2,
                 "correlation": 2}
PAPER_MODEL = {"model": "mace", "hidden_irreps": "32x0e + 32x1o", "readout_irreps": "16x0e",
               "max_ell": 3, "num_rbf": 8, "radial_mlp_hidden": [64, 64, 64], "num_layers": 2,
               "correlation": 2}


def timeit(fn, *args, reps=10):
    import jax
    import numpy as np

    jax.block_until_ready(fn(*args))          # compile
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def benchmark_case(a):
    """The frames and configs both benchmarks time: (all positions, the first ``a.epoch_frames``
    frames as a dataset, r_cut from ``a.n_avg``, model config of ``a.size``, training config)."""
    from mapmatters.mlp import neighbors as NB
    from mapmatters.mlp.train import load_frames, train_config

    data = load_frames(a.dataset)
    R = data["R"]
    r_cut = NB.r_cut_for_n_avg(R[:20], data["box"], a.n_avg)
    mcfg = dict(DEFAULT_MODEL if a.size == "default" else PAPER_MODEL, r_cut=r_cut)
    cfg = train_config({"batch_size": a.batch, "epochs": 1, "val_fraction": 0.1,
                        "test_fraction": 0.0, "max_frames": a.epoch_frames})
    sub = {k: (v[:a.epoch_frames] if k in ("R", "F") else v) for k, v in data.items()}
    return R, sub, r_cut, mcfg, cfg


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="results/ci/hexane/cg/three-site.h5")
    ap.add_argument("--size", choices=["default", "paper"], default="default")
    ap.add_argument("--n-avg", type=float, default=20.0, help="cut-off from mean neighbours")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--chains", type=int, default=3)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--xla-flags", default="")
    ap.add_argument("--epoch-frames", type=int, default=40)
    ap.add_argument("--keep-heap", action=argparse.BooleanOptionalAction, default=True,
                    help="keep freed memory for reuse, as the workflow's MLP jobs do")
    ap.add_argument("--tensor-products", nargs="+", choices=["sliced", "e3j"], default=["sliced"],
                    help="static slices (the workflow's in training) and/or e3j's gather / "
                         "scatter-add (its MD's), timed one after the other in this process, "
                         "in the order given (mapmatters.mlp.tensor_product)")
    a = ap.parse_args(argv)

    from mapmatters.mlp import runtime
    runtime.configure(a.xla_flags, a.threads, keep_freed=a.keep_heap)

    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax_md import simulate

    from mapmatters.mlp.train import Setup, _optimizer, _trainer_class
    from mapmatters.simulate import md as MD

    R, data, r_cut, mcfg, cfg = benchmark_case(a)
    su = Setup(data, mcfg, cfg, log=lambda m: None)
    model, params, nbrs0 = su.model, su.init_params, su.nbrs
    Rb = jnp.asarray(R[:a.batch])
    Fb = jnp.asarray(data["F"][:a.batch])
    n, cap = R.shape[1], su.capacity
    rows = []

    class _Rows(list):
        def append(self, row):
            super().append(row)
            print(f"  ... {row[0]} {row[1]}: {1000 * row[2]:.2f} ms", flush=True)
    rows = _Rows()

    upd = jax.jit(jax.vmap(lambda r: nbrs0.update(r)))
    nb_b = upd(Rb)
    rows.append(("train", "nbr rebuild", timeit(upd, Rb, reps=a.reps)))

    def graph_vecs(r, nb):
        g = model.graph(r, nb)
        return g.edge_vectors()
    rows.append(("train", "graph (edge vectors)",
                 timeit(jax.jit(jax.vmap(graph_vecs)), Rb, nb_b, reps=a.reps)))
    overheads = []

    def per_method(model, tag):
        """The model's rows: forward, forces, loss gradient, chemtrain's epoch and MD."""
        efn = model.energy_fn_template(params)
        e_b = jax.jit(jax.vmap(lambda r, nb: efn(r, neighbor=nb)))
        rows.append(("train", "energy (fixed list)" + tag, timeit(e_b, Rb, nb_b, reps=a.reps)))
        f_b = jax.jit(jax.vmap(lambda r, nb: jax.grad(lambda x: efn(x, neighbor=nb))(r)))
        rows.append(("train", "energy+forces (fixed list)" + tag, timeit(f_b, Rb, nb_b, reps=a.reps)))

        def loss(p, R_, F_, nb=None):
            e = model.energy_fn_template(p)

            def one(r, f, nbi):
                nbi = nbrs0.update(r) if nbi is None else nbi
                return jnp.mean((-jax.grad(lambda x: e(x, neighbor=nbi))(r) - f) ** 2)
            return jnp.mean(jax.vmap(one)(R_, F_, nb))

        lg_rebuild = jax.jit(jax.value_and_grad(lambda p, R_, F_: loss(p, R_, F_)))
        lg_fixed = jax.jit(jax.value_and_grad(lambda p, R_, F_, nb: loss(p, R_, F_, nb)))
        t_lg = timeit(lg_rebuild, params, Rb, Fb, reps=a.reps)
        rows.append(("train", "loss+grad, list rebuilt inside" + tag, t_lg))
        rows.append(("train", "loss+grad, precomputed list" + tag,
                     timeit(lg_fixed, params, Rb, Fb, nb_b, reps=a.reps)))

        # chemtrain's epoch loop: wall time per batch (second epoch, compiled)
        n_train = len(su.splits["training"]["R"])
        spe = n_train // a.batch
        opt, _ = _optimizer(cfg, spe)
        Trainer = _trainer_class()
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            tr = Trainer(params, opt, model.energy_fn_template, nbrs0, batch_per_device=a.batch,
                         batch_cache=1, log_file=None, checkpoint_path=tmp, full_checkpoint=False)
            tr.set_arrays(su.splits, a.batch, 1)
            import contextlib
            import io
            with contextlib.redirect_stdout(io.StringIO()):
                tr.train(1)
                t0 = time.perf_counter()
                tr.train(1)
                t_ct = (time.perf_counter() - t0) / spe
        rows.append(("train", f"chemtrain epoch, per batch ({spe} batches){tag}", t_ct))

        # MD: chains vmapped, as simulate.md
        system = MD.system_from_model(model, params, data["masses"])
        C = a.chains
        R0 = jnp.asarray(R[:C])
        nbc = MD._alloc_batched(system, R0, cap)
        mass = jnp.asarray(system.masses, jnp.float32)[:, None]
        init, apply = simulate.nvt_langevin(system.energy_fn, MD._shift(system.box), 0.002,
                                            2.494, gamma=100.0)
        keys = jax.vmap(jax.random.PRNGKey)(jnp.arange(C))
        st = jax.vmap(lambda k, r, nb: init(k, r, mass=mass, neighbor=nb))(keys, R0, nbc)

        def step(s, nb):
            nb = nb.update(s.position)
            return apply(s, neighbor=nb), nb
        md_full = jax.jit(jax.vmap(step))
        md_fixed = jax.jit(jax.vmap(lambda s, nb: apply(s, neighbor=nb)))
        md_nbr = jax.jit(jax.vmap(lambda s, nb: nb.update(s.position)))
        rows.append(("md", f"step, list rebuilt ({C} chains){tag}", timeit(md_full, st, nbc, reps=a.reps)))
        rows.append(("md", "step, fixed list" + tag, timeit(md_fixed, st, nbc, reps=a.reps)))
        rows.append(("md", "list rebuild alone" + tag, timeit(md_nbr, st, nbc, reps=a.reps)))

        overheads.append((tag, t_ct, t_lg))

    for method in a.tensor_products:
        tag = f" [{method}]" if len(set(a.tensor_products)) > 1 else ""
        per_method(dataclasses.replace(model, tensor_products=method), tag)

    edges = int(np.sum(np.asarray(nb_b.idx[:, 0]) < n)) / a.batch
    print(f"# {a.size} MACE, {n} beads, r_cut {r_cut} nm (n_avg {a.n_avg}), capacity {cap} "
          f"slots, {edges:.0f} real edges/frame ({100 * (1 - edges / cap):.0f}% padding), "
          f"batch {a.batch}, threads {a.threads}, heap {'kept' if a.keep_heap else 'glibc'}, "
          f"tensor products {' '.join(a.tensor_products)}, "
          f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
    print(f"# load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for part, name, t in rows:
        print(f"{part:6s} {name:45s} {1000 * t:9.2f} ms")
    for tag, t_ct, t_lg in overheads:
        print(f"# chemtrain host+optimizer overhead per batch{tag}: {1000 * (t_ct - t_lg):.2f} ms "
              f"({100 * (t_ct - t_lg) / t_ct:.0f}% of the batch)")


if __name__ == "__main__":
    sys.exit(main())
