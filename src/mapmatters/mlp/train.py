"""Force matching of an mlip MACE / NequIP model with ``chemtrain.trainers.ForceMatching``.

What chemtrain does here: the per-frame model (neighbour update + energy + forces), the
force-matching loss (MSE over all force components = chi^2 of the paper), the jitted
update step with the optax optimizer, validation loss and best-parameter tracking.

What we add around it, and why:

- *Batches.* chemtrain's default loader (jax_sgmc) shuffles with a host-side random state that
  is not part of any checkpoint, so a resumed run would see different batches. The trainer's
  ``_get_batch_stage`` is overridden to draw each epoch's permutation from
  ``numpy.random.default_rng([seed, epoch])``: the batch order of epoch k is the same
  whether or not the run was interrupted. Evaluation batches are sequential, the last one
  padded and masked (chemtrain's ``include_all`` semantics).
- *Checkpoint every epoch* (params, optimizer state, epoch, loss histories, best params) to
  ``checkpoint.pkl`` (atomic rename), and resume from it. chemtrain's own checkpoint pickles
  the trainer statistics but not enough to restart an epoch loop.
- *Neighbour list sized over the whole dataset* with a margin, and an overflow check on every
  frame before training (the trainer does not check).
- *Force errors in meV/A on the held-out test frames.*

Training config (plain dict; missing keys take :data:`TRAIN_DEFAULTS`)::

    epochs: 50, batch_size: 32, lr: 1.0e-3, lr_decay: 0.9 (per epoch, continuous),
    grad_clip: 10.0 (global norm), seed: 22,
    val_fraction: 0.1 (of the non-test frames), test_fraction: 0.1 (last frames, held out),
    split: "contiguous" | "random", stride: 1, max_frames: null, capacity_margin: 1.2
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import sys
import time
from collections import namedtuple
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..config import with_defaults
from ..geometry import box_lengths
from ..units import KJ_MOL_NM_TO_MEV_A
from . import compat
from . import tensor_product as TP

TRAIN_DEFAULTS: dict[str, Any] = {
    "epochs": 50,
    "batch_size": 32,
    "lr": 1.0e-3,
    "lr_decay": 0.9,
    "grad_clip": 10.0,
    "seed": 22,
    "val_fraction": 0.1,
    "test_fraction": 0.1,
    "split": "contiguous",
    "stride": 1,
    "max_frames": None,
    "capacity_margin": 1.2,
}

_BatchInfo = namedtuple("_BatchInfo", ["mask", "batch_size"])


def train_config(config: dict | None = None, **overrides) -> dict:
    cfg = with_defaults(TRAIN_DEFAULTS, config, overrides, "training config")
    if cfg["split"] not in ("contiguous", "random"):
        raise ValueError("split must be 'contiguous' or 'random'")
    if not 0 <= cfg["test_fraction"] < 1 or not 0 <= cfg["val_fraction"] < 1:
        raise ValueError("val_fraction and test_fraction must be in [0, 1)")
    return cfg


# ------------------------------------------------------------------------------ data

def load_frames(path, stride: int = 1, max_frames: int | None = None) -> dict:
    """Positions, forces, constant box side, species, masses of a CG dataset (float32)."""
    from ..cgdata import CGDataset

    with CGDataset(path) as ds:
        stop = None if max_frames is None else max_frames * stride
        R = ds.read("positions", 0, stop, stride).astype(np.float32)
        F = ds.read("forces", 0, stop, stride).astype(np.float32)
        box = ds.read("box", 0, stop, stride) if ds.periodic else None
        top = ds.topology
        periodic = ds.periodic
    side = None
    if periodic:
        try:
            diag = box_lengths(box)
        except ValueError:
            raise ValueError(f"{path}: triclinic boxes are not supported") from None
        if np.ptp(diag, axis=0).max() > 1e-5:
            raise ValueError(f"{path}: the box changes between frames (NPT data); "
                             "force matching here needs a constant box")
        side = diag[0].astype(np.float64)
    return {"R": R, "F": F, "box": side, "species": np.asarray(top.species, np.int32),
            "masses": np.asarray(top.masses, np.float64), "bonds": np.asarray(top.bonds, np.int64),
            "angles": np.asarray(top.angles, np.int64)}


def split_indices(n_frames: int, cfg: dict) -> dict[str, np.ndarray]:
    """Frame indices of the training, validation and (held-out) test splits."""
    n_test = int(round(n_frames * cfg["test_fraction"]))
    n_rest = n_frames - n_test
    n_val = int(round(n_rest * cfg["val_fraction"]))
    n_train = n_rest - n_val
    if n_train < 1:
        raise ValueError(f"too few frames ({n_frames}) for the split")
    idx = np.arange(n_rest)
    if cfg["split"] == "random":
        idx = np.random.default_rng(cfg["seed"]).permutation(n_rest)
    out = {"training": np.sort(idx[:n_train]), "validation": np.sort(idx[n_train:])}
    out["testing"] = np.arange(n_rest, n_frames)
    return {k: v for k, v in out.items() if len(v)}


# ------------------------------------------------------------------------------ trainer

def _trainer_class():
    compat.apply()
    from chemtrain.trainers import ForceMatching

    class ArrayForceMatching(ForceMatching):
        """ForceMatching fed from in-memory arrays with a checkpointable batch order."""

        def set_arrays(self, splits: dict[str, dict], batch_size: int, seed: int):
            self._arrays = splits
            self._seed = int(seed)
            self._bs = int(batch_size)
            for stage, data in splits.items():
                n = len(data["R"])
                self._batch_states[stage] = None
                if stage == "training":
                    bs = min(self._bs, n)
                    self._batches_per_epoch[stage] = n // bs
                else:
                    self._batches_per_epoch[stage] = math.ceil(n / self._bs)

        def _get_batch_stage(self, stage, information=False):
            data = self._arrays[stage]
            n = len(data["R"])
            if stage == "training":
                bs = min(self._bs, n)
                perm = np.random.default_rng([self._seed, int(self._epoch)]).permutation(n)
                for b in range(self._batches_per_epoch[stage]):
                    sel = np.sort(perm[b * bs:(b + 1) * bs])
                    batch = {k: v[sel] for k, v in data.items()}
                    yield (batch, _BatchInfo(np.ones(bs, bool), bs)) if information else batch
                return
            bs = self._bs
            for b in range(self._batches_per_epoch[stage]):
                sel = np.arange(b * bs, (b + 1) * bs)
                mask = sel < n
                sel = np.where(mask, sel, n - 1)
                batch = {k: v[sel] for k, v in data.items()}
                yield (batch, _BatchInfo(mask, bs)) if information else batch

        def _evaluate_convergence(self, *args, **kwargs):
            # chemtrain prints a multi-line block per epoch; we print our own line
            with contextlib.redirect_stdout(io.StringIO()):
                super()._evaluate_convergence(*args, **kwargs)

    return ArrayForceMatching


def _optimizer(cfg, steps_per_epoch):
    import optax

    schedule = optax.exponential_decay(cfg["lr"], transition_steps=max(1, steps_per_epoch),
                                       decay_rate=cfg["lr_decay"])
    return optax.chain(optax.clip_by_global_norm(cfg["grad_clip"]),
                       optax.adam(schedule)), schedule


def _np_tree(tree):
    import jax

    return jax.tree.map(np.asarray, tree)


def _atomic_pickle(path, obj):
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "wb") as fh:
        pickle.dump(obj, fh, protocol=4)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def force_errors(pred, ref) -> dict:
    """RMSE and MAE over force components, in kJ/mol/nm and meV/A."""
    d = np.asarray(pred, np.float64) - np.asarray(ref, np.float64)
    rmse = float(np.sqrt(np.mean(d * d)))
    mae = float(np.mean(np.abs(d)))
    return {"rmse_kj_mol_nm": rmse, "mae_kj_mol_nm": mae,
            "rmse_mev_a": rmse * KJ_MOL_NM_TO_MEV_A, "mae_mev_a": mae * KJ_MOL_NM_TO_MEV_A}


#: Largest precomputed edge-index table (bytes) kept in memory; above it the lists are
#: rebuilt inside every training step as before.
PRECOMPUTE_MAX_BYTES = 2 * 1024 ** 3


def padded_batches(R, batch: int):
    """Batches of ``batch`` frames of ``R`` (the last one padded with copies of its last frame, so
    one compiled shape serves all) and the number of real frames in each."""
    for s in range(0, len(R), batch):
        chunk = R[s:s + batch]
        n = len(chunk)
        if n < batch:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - n, axis=0)])
        yield chunk, n


def precompute_edges(nbrs0, R, batch: int = 64) -> tuple[np.ndarray, bool]:
    """Edge indices (F, 2, E) int32 of every frame of ``R`` with list ``nbrs0``'s capacity, and
    whether any frame overflowed (jax-md's own flag)."""
    import jax

    upd = jax.jit(jax.vmap(lambda r: (lambda nb: (nb.idx, nb.did_buffer_overflow))(
        nbrs0.update(r))))
    out, ovf = [], False
    for chunk, n in padded_batches(R, batch):
        idx, o = upd(chunk)
        out.append(np.asarray(idx, np.int32)[:n])
        ovf |= bool(np.any(np.asarray(o)[:n]))
    return np.concatenate(out), ovf


class Setup:
    """Everything needed to train and evaluate: data, splits, model, neighbour list.

    ``precompute_neighbors`` (default): the training frames are fixed, so every frame's edge
    index is computed once here and travels with the batches (key ``nbr_idx``); the model
    then builds its graph from it and the list update chemtrain traces into every step is
    dead code that XLA drops. The capacity is then the largest edge count over the frames
    (no margin: no frame outside the data is ever seen), so fewer padding edges go through
    the model. Same pairs, same loss: padding edges contribute nothing. False (or a table
    over :data:`PRECOMPUTE_MAX_BYTES`): the list is rebuilt in every step, with
    ``capacity_margin``, as before.

    ``tensor_products``: how the model evaluates its tensor products (:mod:`.tensor_product`;
    static slices for training, "e3j" only to compare with the library's own evaluation).
    """

    def __init__(self, data: dict, model_cfg: dict, cfg: dict, log: Callable = print,
                 precompute_neighbors: bool = True, tensor_products: str = TP.TRAINING):
        import jax
        import jax.numpy as jnp

        from . import model as M
        from . import neighbors as NB
        from . import prior as P

        self.cfg = cfg
        self.data = data
        R = data["R"]
        self.splits_idx = split_indices(len(R), cfg)
        train_R = R[self.splits_idx["training"]]
        mcfg = M.model_config(model_cfg)
        stats = NB.count_edges(R, data["box"], mcfg["r_cut"])
        train_stats = NB.count_edges(train_R, data["box"], mcfg["r_cut"])
        if mcfg["avg_num_neighbors"] is None:
            mcfg["avg_num_neighbors"] = round(train_stats.avg_neighbors, 4)
        f_train = data["F"][self.splits_idx["training"]].astype(np.float64)
        if P.is_request(mcfg["prior"]):    # harmonic priors from the training frames
            req = mcfg["prior"]
            mcfg["prior"] = P.fit_prior(train_R, data["species"], data.get("bonds", ()), data.get("angles", ()),
                                        data["box"], terms=req.get("terms", P.TERMS),
                                        temperature_K=req.get("temperature_K", 300.0))
            for kind in ("bonds", "angles"):
                if kind in mcfg["prior"]:
                    p = mcfg["prior"][kind]
                    log(f"[prior] {kind}: " + ", ".join(f"species {s}: x0 {x:.4g}, k {k:.4g}"
                                                       for s, x, k in zip(p["species"], p["x0"], p["k"])))
        if mcfg["prior"] and mcfg["energy_scale"] is None:   # the MLP learns what the prior leaves
            f_train = f_train - P.prior_forces(mcfg["prior"], train_R, data["box"])
        if mcfg["energy_scale"] is None:   # see mapmatters.mlp.model: output scale
            mcfg["energy_scale"] = round(float(np.sqrt(np.mean(f_train ** 2))) * 0.1, 6)
        self.model = M.build(mcfg, data["species"], data["box"],
                             tensor_products=tensor_products)
        self.precomputed = bool(precompute_neighbors) and \
            len(R) * 2 * 4 * max(16, stats.max_edges) <= PRECOMPUTE_MAX_BYTES
        self.capacity = NB.capacity_for(stats, 1.0 if self.precomputed else cfg["capacity_margin"])
        self.stats = stats
        nf = self.model.neighbor_fn(capacity_multiplier=1.0)
        self.nbrs = NB.allocate(nf, R[0], self.capacity)
        log(f"[nbrs] r_cut {mcfg['r_cut']} nm: max edges {stats.max_edges} over "
            f"{stats.n_frames} frames, avg neighbours {stats.avg_neighbors:.2f} "
            f"(train {train_stats.avg_neighbors:.2f}), capacity {self.capacity}")
        key = jax.random.PRNGKey(cfg["seed"])
        # compiled (EnergyModel.init): 8.7 s for the default MACE on a 2-core Intel VM, a
        # 4.7 s trace that the training step reuses in part and 4 s compiling the initialisers'
        # random numbers (threefry); faster than the eager flax init
        self.init_params = self.model.init(key, jnp.asarray(R[0]), self.nbrs)
        self.splits = {k: {"R": R[v], "F": data["F"][v]} for k, v in self.splits_idx.items()}
        if self.precomputed:
            idx, ovf = precompute_edges(self.nbrs, R)
            if ovf:   # cannot happen: the capacity is the counted maximum
                raise RuntimeError(f"neighbour list (capacity {self.capacity}) overflows")
            for k, v in self.splits_idx.items():
                self.splits[k]["nbr_idx"] = idx[v]
            log(f"[nbrs] edge indices of {len(R)} frames precomputed "
                f"({idx.nbytes / 2 ** 20:.0f} MiB)")

        nbrs0 = self.nbrs
        model = self.model

        @jax.jit
        def _forces(params, Rb):
            efn = model.energy_fn_template(params)

            def one(r):
                nb = nbrs0.update(r)
                f = -jax.grad(lambda x: efn(x, neighbor=nb))(r)
                return f, nb.did_buffer_overflow
            return jax.vmap(one)(Rb)

        self._forces = _forces

    def predict_forces(self, params, R, batch: int = 8):
        out, ovf = [], False
        for chunk, n in padded_batches(R, batch):
            f, o = self._forces(params, chunk)
            out.append(np.asarray(f)[:n])
            ovf |= bool(np.any(np.asarray(o)))
        if ovf:
            raise RuntimeError("neighbour list overflow while predicting forces")
        return np.concatenate(out)


def train(dataset: str | dict, outdir, model_cfg: dict | None = None,
          train_cfg: dict | None = None, *, resume: bool = True,
          on_epoch_end: Callable[[int], None] | None = None, log: Callable = None,
          precompute_neighbors: bool = True) -> dict:
    """Train by force matching; write ``outdir/{params.pkl,metrics.json,checkpoint.pkl,train.log}``.

    ``dataset``: a CG dataset path (``mapmatters-cg/1``) or a dict from :func:`load_frames`.
    Resumes from ``outdir/checkpoint.pkl`` when present (and ``resume``). ``on_epoch_end(k)``
    is called after epoch k (1-based) has been checkpointed. Returns the metrics dict.
    """
    import jax

    cfg = train_config(train_cfg)
    if jax.device_count() > 1:
        # chemtrain 0.2.0's shard_map update fails on jax 0.10 with >1 device ("Context mesh
        # ... should match the mesh of sharding"), e.g. with
        # XLA_FLAGS=--xla_force_host_platform_device_count=2
        raise RuntimeError(f"{jax.device_count()} jax devices: chemtrain 0.2.0 on jax "
                           f"{jax.__version__} trains on one device only; unset the XLA_FLAGS "
                           "option --xla_force_host_platform_device_count")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    logf = open(outdir / "train.log", "a")

    def _log(msg):
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        (log or (lambda m: print(m, flush=True)))(line)
        logf.write(line + "\n")
        logf.flush()

    data = dataset if isinstance(dataset, dict) else load_frames(dataset, cfg["stride"],
                                                                 cfg["max_frames"])
    su = Setup(data, model_cfg or {}, cfg, _log, precompute_neighbors=precompute_neighbors)
    model = su.model

    # every frame must fit the neighbour list (the trainer itself never checks; precomputed
    # lists were checked when they were built)
    if not su.precomputed:
        _check_all_frames(su, data["R"])

    n_train = len(su.splits["training"]["R"])
    steps_per_epoch = n_train // min(cfg["batch_size"], n_train)
    optimizer, schedule = _optimizer(cfg, steps_per_epoch)
    Trainer = _trainer_class()
    trainer = Trainer(su.init_params, optimizer, model.energy_fn_template, su.nbrs,
                      batch_per_device=min(cfg["batch_size"], n_train), batch_cache=1,
                      log_file=None, checkpoint_path=str(outdir / "chemtrain"),
                      full_checkpoint=False)
    trainer.set_arrays(su.splits, cfg["batch_size"], cfg["seed"])

    ckpt_path = outdir / "checkpoint.pkl"
    start_epoch = 0
    ck = None
    if resume and ckpt_path.exists():
        with open(ckpt_path, "rb") as fh:
            ck = pickle.load(fh)
        same = {k: v for k, v in cfg.items() if k != "epochs"}
        if ck["model_config"] != model.config or \
                {k: v for k, v in ck["train_config"].items() if k != "epochs"} != same:
            # Snakemake reruns a training whose config changed: the old checkpoint is not resumed
            _log(f"[resume] {ckpt_path} was written with another model or training config: starting over")
            ck = None
    if ck is not None:
        start_epoch = ck["epoch"]
        trainer.state = trainer.state.replace(params=jax.tree.map(jax.numpy.asarray, ck["params"]),
                                              opt_state=jax.tree.map(jax.numpy.asarray,
                                                                     ck["opt_state"]))
        trainer._epoch = start_epoch
        trainer.update_times.extend([0.0] * start_epoch)
        trainer.train_losses.extend(ck["train_losses"])
        trainer.val_losses.extend(ck["val_losses"])
        es = trainer._early_stop
        es.best_loss = ck["best_loss"]
        es.best_params = jax.tree.map(jax.numpy.asarray, ck["best_params"])
        es._epoch_losses = list(ck["early_stop_losses"])
        _log(f"[resume] from {ckpt_path} at epoch {start_epoch}")

    t_epoch = [time.perf_counter()]

    def post_epoch(tr, *a, **k):
        epoch = tr._epoch + 1  # chemtrain increments after the post_epoch tasks
        es = tr._early_stop
        ck = {"epoch": epoch, "params": _np_tree(tr.params),
              "opt_state": _np_tree(tr.state.opt_state),
              "train_losses": [float(x) for x in tr.train_losses],
              "val_losses": [float(x) for x in tr.val_losses],
              "best_loss": float(es.best_loss), "best_params": _np_tree(es.best_params),
              "early_stop_losses": [float(x) for x in es._epoch_losses],
              "model_config": model.config, "train_config": cfg}
        _atomic_pickle(ckpt_path, ck)
        dt = time.perf_counter() - t_epoch[0]
        t_epoch[0] = time.perf_counter()
        val = tr.val_losses[-1] if tr.val_losses else float("nan")
        lr = float(schedule(epoch * steps_per_epoch))
        _log(f"epoch {epoch}/{cfg['epochs']} train_mse {float(tr.train_losses[-1]):.4f} "
             f"val_mse {float(val):.4f} (kJ/mol/nm)^2 val_rmse "
             f"{math.sqrt(max(float(val), 0)) * KJ_MOL_NM_TO_MEV_A:.2f} meV/A "
             f"lr {lr:.2e} {dt:.1f} s ({n_train / dt:.1f} frames/s)")
        if on_epoch_end is not None:
            on_epoch_end(epoch)

    trainer.add_task("post_epoch", post_epoch)
    remaining = cfg["epochs"] - start_epoch
    if remaining > 0:
        _log(f"training {model.config['model']} on {n_train} frames, "
             f"{steps_per_epoch} batches/epoch, epochs {start_epoch + 1}..{cfg['epochs']}")
        trainer.train(remaining)
        if trainer._diverged:
            raise RuntimeError("training diverged (chemtrain caught a RuntimeError)")

    # chemtrain tracks the best params on the validation loss; without a validation split
    # its best_params would stay the initial ones, so take the last epoch's then
    best = _np_tree(trainer.best_params if "validation" in su.splits else trainer.params)
    final = _np_tree(trainer.params)
    metrics = {"n_frames": {k: int(len(v)) for k, v in su.splits_idx.items()},
               "neighbours": {"max_edges": su.stats.max_edges, "capacity": su.capacity,
                              "avg_neighbors": su.stats.avg_neighbors,
                              "avg_neighbors_model": model.config["avg_num_neighbors"]},
               "epochs": cfg["epochs"], "train_losses": [float(x) for x in trainer.train_losses],
               "val_losses": [float(x) for x in trainer.val_losses],
               "model_config": model.config, "train_config": cfg,
               "units": {"force_error": "meV/A (1 kJ/mol/nm = %.7f meV/A)" % KJ_MOL_NM_TO_MEV_A}}
    for stage in ("testing", "validation"):
        if stage in su.splits:
            d = su.splits[stage]
            metrics[f"{stage}_force_error"] = force_errors(su.predict_forces(best, d["R"]), d["F"])
    from .model import save_params

    save_params(outdir / "params.pkl", best, model.config,
                extra={"which": "best validation", "box": None if data["box"] is None
                       else [float(x) for x in data["box"]],
                       "species": [int(s) for s in data["species"]]})
    save_params(outdir / "params_final.pkl", final, model.config, extra={"which": "last epoch"})
    with open(outdir / "metrics.json", "w") as fh:
        json.dump(metrics, fh, indent=2)
    if "testing_force_error" in metrics:
        e = metrics["testing_force_error"]
        _log(f"test force RMSE {e['rmse_mev_a']:.2f} meV/A, MAE {e['mae_mev_a']:.2f} meV/A "
             f"({metrics['n_frames']['testing']} frames)")
    logf.close()
    return metrics


def _check_all_frames(su: Setup, R, batch: int = 64) -> None:
    """Raise if any frame overflows the neighbour list (jax-md's own overflow flag)."""
    import jax

    nbrs0 = su.nbrs
    upd = jax.jit(jax.vmap(lambda r: nbrs0.update(r).did_buffer_overflow))
    for s in range(0, len(R), batch):
        chunk = R[s:s + batch]
        if len(chunk) < batch:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - len(chunk), axis=0)])
        if np.any(np.asarray(upd(chunk))):
            raise RuntimeError(f"neighbour list (capacity {su.capacity}) overflows on frames "
                               f"{s}..{s + batch}; raise capacity_margin")


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(description="force-match an mlip model with chemtrain")
    p.add_argument("dataset")
    p.add_argument("outdir")
    p.add_argument("--model-config", default="{}", help="JSON dict or path")
    p.add_argument("--train-config", default="{}", help="JSON dict or path")
    p.add_argument("--no-resume", action="store_true")
    a = p.parse_args(argv)

    def _j(s):
        return json.loads(Path(s).read_text()) if os.path.exists(s) else json.loads(s)

    train(a.dataset, a.outdir, _j(a.model_config), _j(a.train_config), resume=not a.no_resume)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
