"""NVE time-step scan of a trained CG model (the paper's capped-alanine stability test: 100 chains
x 100 ps at dt 0.5, 1, 2, 3, 4, 5, 6 fs, velocities drawn at 300 K; Atomistic stable up to
1 fs, United Atom and Heavy Atom up to 2 fs).

Per time step, ``n_chains`` velocity-Verlet chains (:func:`mapmatters.simulate.md.run`,
ensemble ``nve``) start from evenly spaced frames of the mapped reference (the frames of
:func:`mapmatters.mlp.pipeline.start_positions`, as the NVT runs) with momenta drawn at
``temperature_K`` (jax-md centres them: total momentum zero). Every time step uses the same
start frames *and* the same seeds, so the chains of two time steps differ only in dt.

Definitions (units in the names):

- **Frames.** ``frame_every_ps`` is turned into the nearest whole number of steps,
  ``steps_per_frame = max(1, round(frame_every_ps / dt))``, and the chain runs
  ``n_frames = ceil(length_ps / (steps_per_frame * dt))`` frames, so it covers at least
  ``length_ps``; the actual ``frame_every_ps`` and ``length_ps`` go into the CSV (exact when
  ``frame_every_ps`` is a multiple of dt and divides ``length_ps``: 0.06 ps for 0.5-6 fs).
- **Stability**: the system's criterion (``stability`` block of its YAML), through
  :func:`mapmatters.analysis.stability.stable_time`, exactly as for the NVT runs; a chain is
  stable when no frame is unstable (molecular: no CG bond deviates by more than
  ``max_bond_deviation_nm`` from its mean over the mapped reference; bulk: kinetic k_B T stays
  below ``max_kT_kJ_mol``).
- **Energy drift** (:func:`energy_drift`): slope of the least-squares line through the total
  energy E_tot(t) = E_pot + E_kin of the saved frames, divided by the number of degrees of
  freedom, in kJ/mol/ps per degree of freedom (the GROMACS "conserved energy drift", which is
  per atom). Here n_dof = 3N - 3 (momenta centred). Reported as mean and sd over the stable
  chains (signed), and as the mean of its absolute value (the figure's log axis).
- **Energy error** (:func:`energy_error_kT`): max_t |E_tot(t) - E_tot(t_0)| / (n_dof k_B T),
  the largest excursion of the total energy per degree of freedom in units of k_B T; bounded
  (~(omega dt)^2) for a stable Verlet run, large for a drifting one. Mean over stable chains.

CSV columns (:data:`COLUMNS`, one row per dt): ``n_stable`` and ``stable_fraction`` of the
``n_chains``; ``stable_ps_mean``/``_sd`` over all chains; the drift columns (mean, sd, mean of
|drift|) and ``energy_error_kT_mean`` over the stable chains (NaN when none is stable); the
actual ``steps_per_frame``, ``frame_every_ps``, ``length_ps``; ``steps_per_s``: integrator steps
per second of the vmapped loop (all chains at once) after compilation, and
``ns_per_day_per_chain`` from it (NaN when only the compiling chunk ran). Energies are the
engine's float32 frames.

Resume: each time step works in ``<work>/dt<dt>fs/`` (``<work>``: ``<csv stem>_work/`` beside the
CSV unless given): ``key.json``, what the chains are; ``traj.h5`` and its state, the engine's
resumable chunks; ``row.json``, the finished row with per-chain results; ``energies.npz``, time,
E_pot, E_kin of every chain. A time step whose
``row.json`` carries the current key is not rerun after a kill; a half-run one resumes from its
last chunk; a folder with another key (other config, seeds, stability block or model
parameters) is cleared and rerun. The CSV is written (atomically) when every time step is done.
"""
from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..io import write_json
from ..units import KB_KJ_MOL_K

COLUMNS = ["dt_fs", "n_chains", "n_stable", "stable_fraction", "stable_ps_mean", "stable_ps_sd",
           "drift_kJ_mol_ps_dof_mean", "drift_kJ_mol_ps_dof_sd", "abs_drift_kJ_mol_ps_dof_mean",
           "energy_error_kT_mean", "steps_per_frame", "frame_every_ps", "length_ps", "steps_per_s",
           "ns_per_day_per_chain"]


def energy_drift(etot, time_ps, n_dof: int) -> float | np.ndarray:
    """Energy drift: slope of a least-squares line through the total energy, per degree of
    freedom, kJ/mol/ps per degree of freedom.

    ``etot`` (F,) or (F, C) total energy (kJ/mol) at ``time_ps`` (F,) ps; returns a float or
    one value per chain (C,); NaN for a chain with a non-finite energy or fewer than 2 frames.
    """
    e = np.asarray(etot, np.float64)
    t = np.asarray(time_ps, np.float64)
    one = e.ndim == 1
    e = e[:, None] if one else e
    if e.shape[0] != len(t):
        raise ValueError(f"{e.shape[0]} energies for {len(t)} times")
    if n_dof < 1:
        raise ValueError("n_dof must be positive")
    out = np.full(e.shape[1], np.nan)
    if len(t) >= 2:
        tc = t - t.mean()
        ok = np.isfinite(e).all(axis=0)
        out[ok] = (tc @ (e[:, ok] - e[:, ok].mean(axis=0))) / (tc @ tc) / n_dof
    return float(out[0]) if one else out


def energy_error_kT(etot, n_dof: int, kT: float) -> float | np.ndarray:
    """Largest excursion of the total energy from its first value, per degree of freedom, in
    units of k_B T: max_t |E(t) - E(t_0)| / (n_dof kT) (``etot`` (F,) or (F, C) kJ/mol, ``kT``
    kJ/mol); NaN where an energy is not finite."""
    e = np.asarray(etot, np.float64)
    with np.errstate(invalid="ignore"):
        d = np.abs(e - e[:1]).max(axis=0) / (n_dof * kT)
    d = np.where(np.isfinite(e).all(axis=0), d, np.nan)
    return float(d) if np.ndim(d) == 0 else d


def nve_loop_config(dt_fs: float, length_ps: float, frame_every_ps: float, temperature_K: float,
                    frames_per_chunk: int = 20) -> dict:
    """The engine config of one time step (see the module docstring for the frame rule)."""
    from ..simulate.md import md_config

    dt_ps = float(dt_fs) / 1000.0
    spf = max(1, int(math.floor(frame_every_ps / dt_ps + 0.5)))
    n_frames = max(1, int(math.ceil(length_ps / (spf * dt_ps) - 1e-6)))
    return md_config(ensemble="nve", temperature_K=float(temperature_K), dt_ps=dt_ps, steps_per_frame=spf,
                     n_frames=n_frames, frames_per_chunk=int(frames_per_chunk))


def runtime_minutes(scan_cfg: dict, gpu: bool) -> int:
    """Wall-time budget (min) of one scan (config block ``mlp.<system>.nve_scan``), pessimistic
    as rule mlp_md's: 1e8 chain-steps per day on a GPU (200 ns/day at 2 fs), 1e6 on a CPU,
    x1.5, plus 20 min and 2 min of compilation per time step."""
    chain_steps = scan_cfg["n_chains"] * sum(scan_cfg["length_ps"] / (dt / 1000.0) for dt in scan_cfg["dt_fs"])
    return int(20 + 2 * len(scan_cfg["dt_fs"]) + 1.5 * chain_steps / (1e8 if gpu else 1e6) * 1440)


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _mean_sd(x) -> tuple[float, float]:
    x = np.asarray(x, float)
    if not len(x):
        return float("nan"), float("nan")
    return float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0


def _dt_label(dt_fs: float) -> str:
    return f"dt{float(dt_fs):g}fs"


def _jsonable(x):
    return json.loads(json.dumps(x, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def scan_system(system, R0, start_frames, out_csv, *, dt_fs, length_ps: float, frame_every_ps: float,
                temperature_K: float, stability: dict, seeds, bonds=None, reference_nm=None,
                frames_per_chunk: int = 20, identity: dict | None = None, work_dir=None,
                capacity: int | None = None, log: Callable | None = None) -> list[dict]:
    """The scan on a ready :class:`mapmatters.simulate.md.System` (see :func:`scan`).

    ``R0`` (C, N, 3) start positions (from ``start_frames`` of the dataset), ``seeds`` (C,) one
    per chain (the same at every dt); ``bonds``/``reference_nm`` for the molecular criterion;
    ``identity``: what else makes the chains (e.g. the parameter file's hash), part of the
    resume key; ``capacity``: neighbour-list edge slots to start with (None: the engine's
    estimate; the room the engine ends up with at one dt is reused at the next, so a list that
    overflowed once is not re-allocated, and the loop not recompiled, at every dt).
    Returns the rows (one per dt, in the order of ``dt_fs``)."""
    import h5py
    import pandas as pd

    from ..analysis.aggregate import write_csv
    from ..analysis.stability import stable_time, stop_rule
    from ..simulate import md as MD

    say = log or (lambda m: print(m, flush=True))
    out_csv = Path(out_csv)
    work = Path(work_dir) if work_dir is not None else out_csv.parent / f"{out_csv.stem}_work"
    R0 = np.asarray(R0, np.float32)
    C, N = R0.shape[:2]
    seeds = [int(s) for s in seeds]
    n_dof = 3 * N - 3 if N > 1 else 3
    kT = KB_KJ_MOL_K * float(temperature_K)
    if stability["criterion"] == "molecular" and (bonds is None or reference_nm is None):
        raise ValueError("the molecular stability criterion needs bonds and reference bond lengths")
    box = None if system.box is None else np.asarray(system.box, float)
    # the start positions and reference bond lengths are part of what the chains are
    inputs = hashlib.sha256(R0.tobytes() + np.asarray(reference_nm if reference_nm is not None else [],
                                                      np.float64).tobytes()).hexdigest()
    rows = []
    for dt in dt_fs:
        dt = float(dt)
        cfg = nve_loop_config(dt, length_ps, frame_every_ps, temperature_K, frames_per_chunk)
        every = MD.frame_every_ps(cfg)
        length = cfg["n_frames"] * every
        key = _jsonable({"md": cfg, "seeds": seeds, "start_frames": list(start_frames), "stability": stability,
                         "n_chains": C, "n_beads": N, "identity": identity or {}, "inputs_sha256": inputs})
        d = work / _dt_label(dt)
        row_path, key_path, traj = d / "row.json", d / "key.json", d / "traj.h5"
        if row_path.exists():
            done = json.loads(row_path.read_text())
            if done.get("key") == key:
                say(f"[nve_scan] dt {dt:g} fs: done before, row kept ({done['row']['n_stable']}/{C} stable)")
                traj.unlink(missing_ok=True)   # left behind by a kill between the row and the clean-up
                Path(str(traj) + ".state.npz").unlink(missing_ok=True)
                rows.append(done["row"])
                continue
        if d.exists() and (not key_path.exists() or json.loads(key_path.read_text()) != key):
            say(f"[nve_scan] dt {dt:g} fs: {d} holds chains of another set-up; cleared")
            shutil.rmtree(d)
        d.mkdir(parents=True, exist_ok=True)
        if not key_path.exists():
            write_json(key_path, key)
        say(f"[nve_scan] dt {dt:g} fs: {C} chains x {cfg['n_frames']} frames of {cfg['steps_per_frame']} steps "
            f"({every:g} ps), {length:g} ps")
        t0 = time.perf_counter()
        # a chain that left the criterion is not analysed further; once all have, the run stops
        res = MD.run(system, R0, traj, cfg, seeds=seeds, start_frames=list(start_frames), log=say,
                     capacity=capacity, stop_rule=stop_rule(stability, bonds, reference_nm, box))
        capacity = max(capacity or 0, int(res["capacity"]))
        with h5py.File(traj, "r") as f:
            t = f["time"][()]
            kTs = f["kT"][()]
            epot = f["epot"][()]
            ekin = f["ekin"][()]
            pos = f["positions"][()] if stability["criterion"] == "molecular" else None
        box_f = None if box is None or not len(box) else np.broadcast_to(np.diag(box), (len(t), 3, 3))
        chains = []
        for k in range(C):
            st = stable_time(stability, t, kT=kTs[:, k], positions=None if pos is None else pos[:, k],
                             bonds=bonds, reference_nm=reference_nm, box=box_f, length_ps=length)
            chains.append({"chain": k, "start_frame": int(start_frames[k]), "seed": seeds[k],
                           "stable": st["first_unstable_frame"] is None, "stable_ps": st["stable_ps"]})
        etot = epot.astype(np.float64) + ekin.astype(np.float64)
        drift = energy_drift(etot, t, n_dof)
        err = energy_error_kT(etot, n_dof, kT)
        for c in chains:
            c["drift_kJ_mol_ps_dof"] = float(drift[c["chain"]])
            c["energy_error_kT"] = float(err[c["chain"]])
        stable = [c for c in chains if c["stable"]]
        dm, ds = _mean_sd([c["drift_kJ_mol_ps_dof"] for c in stable])
        sm, ss = _mean_sd([c["stable_ps"] for c in chains])
        sps = res["speed"]["steps_per_s"]
        row = {"dt_fs": dt, "n_chains": C, "n_stable": len(stable), "stable_fraction": len(stable) / C,
               "stable_ps_mean": sm, "stable_ps_sd": ss, "drift_kJ_mol_ps_dof_mean": dm,
               "drift_kJ_mol_ps_dof_sd": ds,
               "abs_drift_kJ_mol_ps_dof_mean": _mean_sd([abs(c["drift_kJ_mol_ps_dof"]) for c in stable])[0],
               "energy_error_kT_mean": _mean_sd([c["energy_error_kT"] for c in stable])[0],
               "steps_per_frame": cfg["steps_per_frame"], "frame_every_ps": every, "length_ps": length,
               "steps_per_s": float("nan") if sps is None else float(sps),
               "ns_per_day_per_chain": float("nan") if sps is None else float(res["speed"]["ns_per_day"])}
        tmp = d / "energies.tmp.npz"
        np.savez(tmp, time_ps=t, epot_kJ_mol=epot, ekin_kJ_mol=ekin)
        tmp.replace(d / "energies.npz")
        write_json(row_path, {"key": key, "row": row, "n_dof": n_dof, "chains": chains,
                              "engine": {k: res[k] for k in ("reallocations", "capacity", "speed", "blowup")},
                              "wall_s": time.perf_counter() - t0})
        traj.unlink(missing_ok=True)
        Path(str(traj) + ".state.npz").unlink(missing_ok=True)
        say(f"[nve_scan] dt {dt:g} fs: {len(stable)}/{C} stable, stable time {sm:.4g} ps, drift {dm:.3g} "
            f"(sd {ds:.3g}) kJ/mol/ps per dof over stable chains, {row['steps_per_s']:.4g} steps/s")
        rows.append(row)
    write_csv(out_csv, pd.DataFrame(rows, columns=COLUMNS))
    return rows


def scan(params_pkl: str, dataset: str, out_csv: str, *, dt_fs, n_chains: int, length_ps: float,
         frame_every_ps: float, temperature_K: float, stability: dict, seed: int, frames_per_chunk: int = 20,
         work_dir=None, log: Callable | None = None) -> list[dict]:
    """NVE scan of the trained model ``params_pkl`` on the mapped reference ``dataset``: one CSV
    row per time step in ``dt_fs`` (fs), columns :data:`COLUMNS`. Chains start from the frames
    of :func:`mapmatters.mlp.pipeline.start_positions`; chain k has seed ``seed * 1000 + k`` at
    every time step. The work folder defaults to ``<out_csv stem>_work`` beside the CSV."""
    from ..analysis.stability import criterion_bonds
    from .pipeline import start_positions
    from .simulation import model_system

    system, _ = model_system(params_pkl, dataset)
    R0, frames = start_positions(dataset, int(n_chains))
    bonds, ref = criterion_bonds(stability, dataset)
    return scan_system(system, R0, frames, out_csv, dt_fs=dt_fs, length_ps=length_ps, frame_every_ps=frame_every_ps,
                       temperature_K=temperature_K, stability=stability,
                       seeds=[int(seed) * 1000 + k for k in range(len(R0))], bonds=bonds, reference_nm=ref,
                       frames_per_chunk=frames_per_chunk, identity={"params_sha256": file_sha256(params_pkl)},
                       work_dir=work_dir, log=log)
