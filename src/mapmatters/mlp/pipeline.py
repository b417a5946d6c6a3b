"""From config to trained model: model variants, the cut-off from N_avg, training of one
(mapping, variant) pair. Called by the ``mlp_train`` rule.

A *variant* is a named set of overrides of a system's base model config (config
``mlp.<system>.variants``), e.g. ``mace-nu2-L2-N20: {correlation: 2, num_layers: 2, n_avg: 20}``.
It gives the cut-off either directly (``r_cut``, nm) or through ``n_avg``, the mean number of
neighbours per bead within the cut-off (Table 1's N_avg), which is turned into a cut-off on
the training data by :func:`mapmatters.mlp.neighbors.r_cut_for_n_avg`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

MODEL_KEYS = {"model", "r_cut", "num_layers", "correlation", "hidden_irreps", "readout_irreps", "max_ell",
              "num_rbf", "radial_mlp_hidden", "nequip_radial_mlp_hidden", "dtype", "prior"}


def variant_model_config(base: dict, variant: dict, data: dict | None = None, *,
                         n_avg_frames: int = 50) -> dict:
    """The model config of a variant: ``base`` updated by ``variant``; ``n_avg`` -> ``r_cut``.

    ``data`` (from :func:`mapmatters.mlp.train.load_frames`) is needed only when the variant
    sets ``n_avg``; the cut-off is measured on its first ``n_avg_frames`` frames.
    """
    from .neighbors import r_cut_for_n_avg

    cfg = {k: v for k, v in base.items() if k in MODEL_KEYS}
    cfg.update({k: v for k, v in variant.items() if k in MODEL_KEYS})
    unknown = set(base) | set(variant)
    unknown -= MODEL_KEYS | {"n_avg"}
    if unknown:
        raise ValueError(f"unknown model key(s) {sorted(unknown)}; allowed: {sorted(MODEL_KEYS | {'n_avg'})}")
    n_avg = variant.get("n_avg", base.get("n_avg"))
    if n_avg is not None and "r_cut" in variant:
        raise ValueError("a variant sets either r_cut or n_avg, not both")
    if n_avg is not None:
        if data is None:
            raise ValueError("n_avg needs the training data to set the cut-off")
        frames = data["R"][:: max(1, len(data["R"]) // n_avg_frames)][:n_avg_frames]
        cfg["r_cut"] = r_cut_for_n_avg(frames, data["box"], float(n_avg))
        cfg["n_avg_target"] = float(n_avg)
    return cfg


def train_variant(dataset: str, outdir: str | Path, base: dict, variant: dict, train_cfg: dict, *,
                  seed: int, log=None) -> dict:
    """Train one variant on a CG dataset (resumes from ``outdir/checkpoint.pkl``)."""
    from .model import model_config
    from .train import load_frames, train, train_config

    tc = train_config(train_cfg, seed=int(seed))
    data = load_frames(dataset, tc["stride"], tc["max_frames"])
    mcfg = variant_model_config(base, variant, data)
    n_avg = mcfg.pop("n_avg_target", None)
    metrics = train(data, outdir, model_config(mcfg), tc, log=log)
    from ..io import write_json

    metrics["n_avg_target"] = n_avg
    metrics["r_cut_nm"] = mcfg["r_cut"]
    metrics["r_cut_from"] = "n_avg" if n_avg is not None else "config"
    write_json(Path(outdir) / "metrics.json", metrics)
    return metrics


START_RULES = ("evenly", "least_helical")


def start_positions(dataset: str, n_runs: int, rule: str = "evenly") -> tuple[np.ndarray, list[int]]:
    """Positions (n_runs, N, 3) of the dataset frames the runs start from, and their indices.

    ``rule`` (``mlp.<system>.md.start_frames``): ``evenly``, evenly spaced frames (the same rule
    as classical runs); ``least_helical``, the frames with the lowest helicity Q_hel of the
    mapping's CA beads (polyalanine, the paper's start), lowest first.
    """
    from ..analysis.helix import ca_indices, helicity, least_helical_frames
    from ..cgdata import CGDataset
    from ..runs import start_frames

    if rule not in START_RULES:
        raise ValueError(f"unknown start-frame rule '{rule}' (use one of {START_RULES})")
    with CGDataset(dataset) as ds:
        if rule == "evenly":
            frames = start_frames(ds.n_frames, n_runs)
        else:
            ca = ca_indices(list(ds.topology.bead_names))
            q = np.concatenate([helicity(b["positions"][:, ca]) for b in ds.iter_chunks(fields=("positions",))])
            frames = least_helical_frames(q, n_runs)
        R = np.stack([ds.read("positions", f, f + 1)[0] for f in frames]).astype(np.float32)
    return R, frames
