"""From a trained model to CG trajectories: the ``mlp_md`` rule's work (the MLP side; the
engine is :mod:`mapmatters.simulate.md`, which knows nothing of MLPs).

All runs of one model go through one vmapped JAX-MD loop (:func:`mapmatters.simulate.md.run`),
started from frames of the mapped reference (``md.start_frames``: evenly spaced, the same
frames as the classical runs, or the least helical ones for polyalanine; recorded in
``md.json``), one seed per run. The record ``md.json`` holds, per run, what the classical
``run.json`` holds (length, mean temperature, speed, the engine's blow-up guard), so the shared
analysis decides stability for both engines alike.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..io import write_json
from ..units import KB_KJ_MOL_K


def model_system(params_pkl: str, dataset: str, skin: float = 0.0):
    """A trained model as a :class:`mapmatters.simulate.md.System` (species, masses and box from
    the mapped reference ``dataset`` it was trained on), and its model config."""
    from ..simulate import md as MD
    from . import tensor_product as TP
    from .model import build, load_params
    from .train import load_frames

    params, mcfg, _ = load_params(params_pkl)
    data = load_frames(dataset, max_frames=1)
    model = build(mcfg, data["species"], data["box"], tensor_products=TP.MD)
    return MD.system_from_model(model, params, data["masses"], skin=skin), mcfg


def simulate_model(params_pkl: str, dataset: str, out_h5: str, out_json: str, md: dict, *, seed: int,
                   stability: dict | None = None, log=None) -> dict:
    """Run ``md['n_runs']`` chains of a trained model; write the trajectory file and ``md.json``.

    ``stability``: the system's criterion; with ``md['stop_when_unstable']`` (default true) a
    chain stops counting once it has left it (its later frames are dropped by every analysis)
    and the run stops when every chain has."""
    from ..analysis.stability import criterion_bonds, stop_rule
    from ..simulate import md as MD
    from .pipeline import start_positions
    from .runtime import describe

    cfg = MD.loop_config(md)
    # skin > 0: the list is rebuilt only when a bead has moved skin/2 (mapmatters.simulate.md)
    system, mcfg = model_system(params_pkl, dataset, skin=cfg["skin"])
    start_rule = md.get("start_frames", "evenly")
    R0, frames = start_positions(dataset, int(md["n_runs"]), start_rule)
    seeds = [int(seed) * 1000 + k for k in range(len(R0))]
    # the loop writes (and resumes) in a work folder that is not a rule output, so a killed job's
    # chunks survive Snakemake's clean-up of incomplete outputs; the finished file is moved in place
    work = Path(out_h5).parent / "work"
    work.mkdir(parents=True, exist_ok=True)
    rule = stop_rule(stability, *criterion_bonds(stability, dataset), box=system.box) \
        if stability is not None and md.get("stop_when_unstable", True) else None
    res = MD.run(system, R0, work / "traj.h5", cfg, seeds=seeds, start_frames=frames, log=log,
                 stop_rule=rule)
    Path(str(work / "traj.h5") + ".state.npz").unlink(missing_ok=True)
    os.replace(work / "traj.h5", out_h5)
    frame_ps = MD.frame_every_ps(cfg)
    import h5py

    with h5py.File(out_h5, "r") as f:
        kT = f["kT"][()]
    first = res["blowup"]["first_blown_up_frame"]
    left = res["left_stability_frame"]
    speed = res["speed"]
    runs = []
    for k in range(len(R0)):
        good = kT[: first[k], k]
        runs.append({
            "run": k, "start_frame": frames[k], "seed": seeds[k],
            "length_ps": float(md["length_ps"]), "blown_up_ps": float(first[k] * frame_ps),
            # the chunk in which the chain left the stability criterion ended here (None: never)
            "left_stability_by_ps": None if left[k] is None else float(left[k] * frame_ps),
            "completed": True,
            "temperature_mean": float(good.mean() / KB_KJ_MOL_K) if len(good) else None,
            "ns_per_day": speed["ns_per_day_all_chains"],
            "ns_per_day_per_chain": speed["ns_per_day"],
            "speed_method": (f"JAX-MD loop time after compilation, {len(R0)} chains vmapped; simulated time "
                             f"of all chains per day of wall time ({describe()['backend']})"),
        })
    summary = {"model_config": mcfg, "md_config": cfg, "n_chains": len(R0), "speed": speed,
               "start_frames": {"rule": start_rule, "frames": [int(f) for f in frames]},
               "neighbour_reallocations": res["reallocations"], "neighbour_capacity": res["capacity"],
               "neighbour_capacity_within_cutoff": res["capacity_cut"],
               "blowup": res["blowup"], "stop_when_unstable": rule is not None,
               "n_frames_simulated": res["n_frames_simulated"], "runtime": describe(), "runs": runs}
    write_json(out_json, summary)
    return summary
