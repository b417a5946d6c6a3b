"""Chiral inversion barrier of a trained CG model by well-tempered metadynamics (the paper's
finding 5: the Core Beta model of capped alanine inverts L -> D, the higher-resolution models do
not on any reachable time scale).

The ``mlp_metad`` rule's work: the engine is :mod:`mapmatters.simulate.metad` (it knows nothing of
MLPs); this module builds the model :class:`mapmatters.simulate.md.System` (as
:mod:`mapmatters.mlp.simulation`), picks the start frame, defines the CV and writes the summary.

- **Start frame**: the frame of the mapped reference nearest to the C7eq basin (config
  ``start: {phi_deg, psi_deg}``), distance sqrt(dphi^2 + dpsi^2) with periodic differences in
  degrees (:func:`nearest_frame`). Every walker starts from it (walker k has seed
  ``seed * 1000 + k``).
- **CV**: the improper N-CA-CB-C of the residue (:data:`mapmatters.analysis.ramachandran.CHIRALITY`,
  centre second); L sits near +123 degrees, D near -123, the planar transition state at +-180
  (:func:`mapmatters.simulate.metad.inversion_regions`).
- **Resume**: the engine writes ``work/hills.h5`` (+ its state) beside the outputs, one chunk per
  call, so a killed job resumes from its last chunk; after each chunk the walkers' positions are
  kept (``work/snapshots.npz``, for the figure's frame nearest the barrier top). The finished file
  is moved to ``hills.h5``.
- **Summary** (``metad.json``, :func:`summarise`): the barrier (max F over the transition region
  minus min F over the start basin) of the walker-averaged F with its jackknife error over walkers
  (:func:`mapmatters.simulate.metad.jackknife_barrier`), and per walker with their mean and sd,
  in kJ/mol and kcal/mol; which walkers crossed into the mirror basin; when none
  did, the no-crossing lower bound; the Eyring wait time h/(k_B T) exp(F/k_B T) at the run
  temperature; barrier vs time; start frame; settings; the start and barrier-top bead positions.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..io import write_json
from ..units import KJ_TO_KCAL

# keys of the config block mlp.<system>.metad that are not engine settings
DRIVER_KEYS = ("walkers", "length_ps_by_mapping", "start")


def engine_settings(block: dict, mapping: str) -> dict:
    """The engine settings (:data:`mapmatters.simulate.metad.METAD_DEFAULTS` keys) of one model from
    the config block ``mlp.<system>.metad``: the mapping's own length when it has one."""
    s = {k: v for k, v in block.items() if k not in DRIVER_KEYS}
    s["length_ps"] = (block.get("length_ps_by_mapping") or {}).get(mapping, block["length_ps"])
    return s


def runtime_minutes(block: dict, mapping: str, gpu: bool) -> int:
    """Wall-time budget (min) of one job, as pessimistic as rule mlp_md's: 1e8 walker-steps per day
    on a GPU, 1e6 on a CPU, x1.5, plus 20 min."""
    s = engine_settings(block, mapping)
    steps = int(block["walkers"]) * (s["length_ps"] / s["dt_ps"] + s.get("unbiased_steps", 500))
    return int(20 + 1.5 * steps / (1e8 if gpu else 1e6) * 1440)


def periodic_distance_deg(phi, psi, phi0: float, psi0: float) -> np.ndarray:
    """sqrt(dphi^2 + dpsi^2) with each difference wrapped to [-180, 180) (degrees)."""
    from ..analysis.ramachandran import wrap_degrees

    return np.hypot(wrap_degrees(np.asarray(phi, float) - phi0), wrap_degrees(np.asarray(psi, float) - psi0))


def nearest_frame(phi_deg, psi_deg, start: dict) -> dict:
    """The frame (index into ``phi_deg``/``psi_deg`` (F,)) nearest to ``start`` =
    ``{phi_deg, psi_deg}`` (periodic distance in degrees): frame, phi_deg, psi_deg, distance_deg."""
    d = periodic_distance_deg(phi_deg, psi_deg, float(start["phi_deg"]), float(start["psi_deg"]))
    if not len(d):
        raise ValueError("no frames to choose a start frame from")
    i = int(np.argmin(d))
    return {"frame": i, "phi_deg": float(phi_deg[i]), "psi_deg": float(psi_deg[i]), "distance_deg": float(d[i])}


def chirality_quad(bead_names, mapping: str = "?") -> tuple[tuple[int, int, int, int], str]:
    """The bead indices of the improper N-CA-CB-C (centre second) and the residue label; raises a
    ValueError naming the mapping when it has no residue with all four beads, or more than one."""
    from ..analysis.ramachandran import CHIRALITY, bead_quads

    quads, labels = bead_quads(list(bead_names), CHIRALITY)
    if len(quads) != 1:
        raise ValueError(f"mapping '{mapping}': the chirality CV needs exactly one residue with beads "
                         f"{'-'.join(CHIRALITY)} (found {len(quads)}; beads: {', '.join(map(str, bead_names))}); "
                         "a mapping without a CB bead (e.g. Core) has no chirality to invert")
    return tuple(int(q) for q in quads[0]), labels[0]


def start_frame(dataset: str, start: dict, mapping: str = "?") -> dict:
    """The reference frame nearest to the ``start`` basin (:func:`nearest_frame`) of a CG dataset,
    with its positions (N, 3) and the bead names."""
    from ..analysis.ramachandran import phi_psi
    from ..cgdata import CGDataset

    with CGDataset(dataset) as ds:
        names = [str(n) for n in ds.topology.bead_names]
        pos = ds.read("positions")
    phi, psi, labels = phi_psi(pos, names)
    if phi.shape[-1] < 1:
        raise ValueError(f"mapping '{mapping}': no residue with both phi and psi beads; cannot pick the start "
                         "frame by its (phi, psi)")
    pick = nearest_frame(phi[:, 0], psi[:, 0], start)
    pick.update(residue=labels[0], n_frames=int(len(pos)))
    return {**pick, "positions": np.asarray(pos[pick["frame"]], np.float32), "bead_names": names}


def _quad_angle(R, quad) -> np.ndarray:
    """Improper of positions R (..., N, 3) in radians (numpy)."""
    from ..geometry import dihedrals

    R = np.asarray(R, np.float64)
    flat = R.reshape((-1,) + R.shape[-2:])
    out = np.array([dihedrals(x, np.asarray([quad]))[0] for x in flat])
    return out.reshape(R.shape[:-2])


def metad_walkers(system, R_start, quad, settings: dict, seeds, work: Path, log: Callable | None = None) -> dict:
    """Run (or resume) the walkers from ``R_start`` (N, 3) in ``work`` one chunk per engine call,
    keeping the walkers' positions after every chunk (``snapshots.npz``: positions (C, W, N, 3),
    cv (C, W) rad). Returns the engine's last summary."""
    from ..simulate.metad import dihedral_cv, metad_config, run_metad

    work.mkdir(parents=True, exist_ok=True)
    h5, snap = work / "hills.h5", work / "snapshots.npz"
    state = Path(str(h5) + ".state.npz")
    W = len(seeds)
    R0 = np.broadcast_to(np.asarray(R_start, np.float32), (W,) + np.shape(R_start)).copy()
    cv_fn = dihedral_cv(quad, None if system.box is None else system.box)
    cfg = metad_config(settings)
    if not (h5.exists() and state.exists()):        # a fresh start: old snapshots belong to another run
        snap.unlink(missing_ok=True)
    pos, cvs = [], []
    if snap.exists():
        z = np.load(snap)
        pos, cvs = list(z["positions"]), list(z["cv"])
    res, secs = None, []
    while True:
        t0 = time.perf_counter()
        res = run_metad(system, R0, cv_fn, settings, seeds, h5, log=log, stop_after_chunks=1)
        secs.append(time.perf_counter() - t0)
        ck = np.load(state)
        n_done = int(ck["n_frames_done"])
        n_chunks = -(-n_done // int(cfg["frames_per_chunk"]))
        if len(pos) < n_chunks:        # one snapshot per chunk (a resumed chunk is not repeated)
            p = np.asarray(ck["position"], np.float32)
            pos.append(p)
            cvs.append(_quad_angle(p, quad))
            tmp = work / "snapshots.tmp.npz"
            np.savez(tmp, positions=np.asarray(pos), cv=np.asarray(cvs))
            os.replace(tmp, snap)
        if res["complete"]:
            # the engine times chunks within one call; here every call runs one chunk: time the calls
            # after the first (compiling) one
            steps = int(cfg["frames_per_chunk"]) * int(cfg["steps_per_frame"])
            if len(secs) > 1:
                sps = steps * (len(secs) - 1) / sum(secs[1:])
                ns_day = sps * float(cfg["dt_ps"]) * 86400 / 1000.0
                res["speed"] = {"steps_per_s": sps, "ns_per_day": ns_day, "ns_per_day_all_walkers": ns_day * W,
                                "note": f"wall time of {len(secs) - 1} one-chunk engine calls after the first "
                                        "(this session; includes the resume overhead of each call)"}
            return res


def inversion_metad(params_pkl: str, dataset: str, out_h5: str, out_json: str, settings: dict, *,
                    start: dict, seed: int, walkers: int, mapping: str = "?", stability: dict | None = None,
                    log: Callable | None = None) -> dict:
    """WT-MetaD along the chirality improper of the trained model ``params_pkl`` on the mapped
    reference ``dataset``: ``walkers`` walkers (vmapped, seeds ``seed * 1000 + k``) from the frame
    nearest to ``start``; writes ``out_h5`` (the engine's file) and the summary ``out_json``.
    ``settings``: engine settings (:func:`engine_settings`); ``stability``: the system's criterion
    (frames after a walker's molecule fell apart do not count)."""
    from ..simulate.metad import metad_config
    from .simulation import model_system

    say = log or (lambda m: print(m, flush=True))
    cfg = metad_config(settings)
    first = start_frame(dataset, start, mapping)
    quad, residue = chirality_quad(first["bead_names"], mapping)
    s_start = float(_quad_angle(first["positions"], quad))
    say(f"[chirality] {mapping}: start frame {first['frame']} (phi {first['phi_deg']:.1f}, psi "
        f"{first['psi_deg']:.1f} deg), improper {'-'.join(first['bead_names'][q] for q in quad)} = "
        f"{math.degrees(s_start):.1f} deg")
    seeds = [int(seed) * 1000 + k for k in range(int(walkers))]
    work = Path(out_h5).parent / "work"
    h5 = work / "hills.h5"
    if not (Path(out_h5).exists() and not h5.exists()):
        system, _ = model_system(params_pkl, dataset)
        res = metad_walkers(system, first["positions"], quad, settings, seeds, work, log=say)
        Path(str(h5) + ".state.npz").unlink(missing_ok=True)
        os.replace(h5, out_h5)
    else:
        res = None
    snaps = np.load(work / "snapshots.npz") if (work / "snapshots.npz").exists() else None
    intact = intact_frames(out_h5, stability, *_reference_bonds(dataset, stability))
    summary = summarise(out_h5, s_start, snapshots=snaps, intact=intact)
    summary.update(mapping=mapping, residue=residue, quad=list(quad),
                   quad_beads=[first["bead_names"][q] for q in quad], seeds=seeds,
                   start={k: first[k] for k in ("frame", "phi_deg", "psi_deg", "distance_deg", "residue",
                                                "n_frames")} | {"target": dict(start),
                                                                "improper_deg": math.degrees(s_start)},
                   start_positions_nm=first["positions"].tolist(), bead_names=first["bead_names"],
                   settings=cfg, engine=None if res is None else
                   {k: res[k] for k in ("n_frames", "n_hills", "reallocations", "speed", "mean_kT", "target_kT")})
    write_json(out_json, json.loads(json.dumps(summary, default=lambda o: o.tolist() if hasattr(o, "tolist")
                                               else str(o))))
    return summary


def _reference_bonds(dataset: str, stability: dict | None) -> tuple:
    """(bonds, reference lengths nm) of the mapped reference for the molecular criterion, else (None, None)."""
    if stability is None:
        return None, None
    from ..analysis.stability import criterion_bonds

    return criterion_bonds(stability, dataset)


def intact_frames(h5_path, stability: dict | None, bonds=None, reference_nm=None):
    """(F, W) bool of the frames in a metadynamics or umbrella output ``h5_path`` whose molecule is
    still intact under the system's ``stability`` criterion (:func:`mapmatters.analysis.stability.
    intact_mask`; the molecular criterion needs the CG ``bonds`` and their ``reference_nm``);
    None without a criterion."""
    if stability is None:
        return None
    import h5py

    from ..analysis.stability import intact_mask

    with h5py.File(h5_path, "r") as f:
        if stability["criterion"] == "molecular" and "positions" not in f:
            raise ValueError(f"{h5_path}: no positions recorded, so the stability criterion cannot be applied; "
                             "delete it to rerun the biased simulation")
        pos = f["positions"][()] if "positions" in f else None
        kT = f["kT"][()]
    return intact_mask(stability, kT=kT, positions=pos, bonds=bonds, reference_nm=reference_nm)


def summarise(h5_path, s_start: float, snapshots=None, half_width: float = 0.6, intact=None) -> dict:
    """The JSON summary of a metadynamics run started at improper ``s_start`` (rad) (module
    docstring); ``snapshots`` (``positions`` (C, W, N, 3), ``cv`` (C, W)) give the frame nearest to
    the barrier top; ``intact`` (F, W) (:func:`intact_frames`) drops what walkers did after their
    molecule fell apart (:func:`mapmatters.simulate.metad.analyse_metad`)."""
    from ..simulate import metad as M

    reg = M.inversion_regions(s_start, half_width)
    a = M.analyse_metad(h5_path, reg["minimum"], reg["transition"], reg["other"], intact=intact)
    hills = M.hills_until(M.read_hills(h5_path), a["intact_ps"])
    ok = np.asarray(a["usable_walkers"], bool)
    T = a["temperature_K"]
    lb = a["lower_bound_if_none_crossed_kJ_mol"]
    per = np.asarray(a["barrier_per_walker_kJ_mol"], float)[ok]
    out = dict(a)
    out.update({
        "regions_rad": {k: list(v) for k, v in reg.items()},
        "barrier_walker_averaged_F_kJ_mol": a["barrier_kJ_mol"],
        "barrier_walker_averaged_F_kcal_mol": a["barrier_kcal_mol"],
        "barrier_definition": "barrier of the F averaged over the usable walkers (intact for the whole run under "
                              "the system's stability criterion, and crossed): max over the transition region "
                              "minus min over the start basin; error: jackknife over those walkers; "
                              "barrier_walker_mean/sd_*: the mean (sd) of their per-walker barriers, which lean high",
        "transition_seen": bool(a["n_crossed"] > 0),
        "lower_bound_kcal_mol": None if lb is None else lb * KJ_TO_KCAL,
        "escape_bias_kcal_mol": [None if e is None else e * KJ_TO_KCAL for e in a["escape_bias_kJ_mol"]],
        "escape_bias_mean_kcal_mol": None if a["escape_bias_mean_kJ_mol"] is None
        else a["escape_bias_mean_kJ_mol"] * KJ_TO_KCAL,
        "escape_bias_sd_kcal_mol": None if a["escape_bias_sd_kJ_mol"] is None
        else a["escape_bias_sd_kJ_mol"] * KJ_TO_KCAL,
        "wait_time_walker_averaged_F_ps": a["wait_time_ps"],
        "wait_time_lower_bound_ps": None if lb is None else float(M.eyring_wait_time_ps(lb, T)),
        "stability_checked": intact is not None,
    })
    if ok.any():
        Fw = M.free_energy(hills["centre"][:, ok], hills["height"][:, ok], hills["sigma"], hills["bias_factor"],
                           np.asarray(a["grid_rad"]))
        jk = M.jackknife_barrier(Fw, np.asarray(a["grid_rad"]), reg["minimum"], reg["transition"])
        mean, sd = float(per.mean()), float(per.std(ddof=1)) if len(per) > 1 else 0.0
        out.update({
            "barrier_kJ_mol": jk["barrier"], "barrier_err_kJ_mol": jk["error"],
            "barrier_kcal_mol": jk["barrier"] * KJ_TO_KCAL, "barrier_err_kcal_mol": jk["error"] * KJ_TO_KCAL,
            "barrier_leave_one_out_kcal_mol": [b * KJ_TO_KCAL for b in jk["leave_one_out"]],
            "barrier_walker_mean_kJ_mol": mean, "barrier_walker_sd_kJ_mol": sd,
            "barrier_walker_mean_kcal_mol": mean * KJ_TO_KCAL, "barrier_walker_sd_kcal_mol": sd * KJ_TO_KCAL,
            "barrier_per_walker_kcal_mol": (per * KJ_TO_KCAL).tolist(),
            "F_per_walker_kJ_mol": Fw.tolist(),
            "wait_time_ps": float(M.eyring_wait_time_ps(jk["barrier"], T)),
        })
    else:
        out.update({k: None for k in ("barrier_kJ_mol", "barrier_err_kJ_mol", "barrier_kcal_mol",
                                      "barrier_err_kcal_mol", "barrier_walker_mean_kJ_mol",
                                      "barrier_walker_sd_kJ_mol", "barrier_walker_mean_kcal_mol",
                                      "barrier_walker_sd_kcal_mol", "wait_time_ps", "F_per_walker_kJ_mol")})
        out.update(barrier_leave_one_out_kcal_mol=[], barrier_per_walker_kcal_mol=[])
    import h5py

    with h5py.File(h5_path, "r") as f:
        frames = {"cv": f["cv"][()], "positions": f["positions"][()]} if "positions" in f else None
    if frames is not None and frames["cv"].size:   # every frame recorded: the intact one nearest planar
        d = np.abs(M.wrap_angle(frames["cv"] - math.pi))
        if intact is not None:
            d = np.where(intact, d, np.inf)
        if np.isfinite(d).any():
            f_, w = np.unravel_index(int(np.argmin(d)), d.shape)
            out["top_frame"] = {"frame": int(f_), "walker": int(w),
                                "improper_deg": math.degrees(float(frames["cv"][f_, w])),
                                "positions_nm": np.asarray(frames["positions"][f_, w]).tolist(),
                                "note": "the recorded frame (all walkers, intact molecules only) whose improper "
                                        "is nearest +-180 deg"}
    elif snapshots is not None and len(snapshots["cv"]):
        cv = np.asarray(snapshots["cv"])            # (C, W)
        d = np.abs(M.wrap_angle(cv - math.pi))        # distance from the planar state
        c, w = np.unravel_index(int(np.argmin(d)), d.shape)
        out["top_frame"] = {"chunk": int(c), "walker": int(w), "improper_deg": math.degrees(float(cv[c, w])),
                            "positions_nm": np.asarray(snapshots["positions"][c, w]).tolist(),
                            "note": "the chunk-end snapshot (all walkers) whose improper is nearest +-180 deg"}
    return out


# ------------------------------------------------------------------------------ umbrella check
UMBRELLA_DRIVER_KEYS = ("windows", "overshoot_rad", "discard_ps", "bin_width_rad")
#: an umbrella window with fewer intact frames after its discarded start takes no part in MBAR
MIN_WINDOW_FRAMES = 10


def umbrella_settings(block: dict) -> dict:
    """The engine settings of the umbrella windows from the config block ``mlp.<system>.umbrella``
    (``bias: umbrella`` and the :data:`mapmatters.simulate.metad.METAD_DEFAULTS` keys)."""
    return {**{k: v for k, v in block.items() if k not in UMBRELLA_DRIVER_KEYS}, "bias": "umbrella"}


def compare_barriers(metad: dict, umbrella: dict) -> dict:
    """The umbrella/MBAR barrier against the metadynamics one (kcal/mol): difference (umbrella minus
    metadynamics), the combined error sqrt(err_jackknife^2 + err_MBAR^2), and whether they agree within
    twice that (or within 1 k_B T when the combined error is smaller than that); no verdict (None) when
    either has no barrier (a broken molecule, no crossing)."""
    from ..units import KB_KJ_MOL_K

    kT = KB_KJ_MOL_K * float(metad.get("temperature_K", 300.0)) * KJ_TO_KCAL
    if umbrella.get("barrier_kcal_mol") is None or metad.get("barrier_kcal_mol") is None:
        return {"metad_barrier_kcal_mol": metad.get("barrier_kcal_mol"),
                "metad_err_kcal_mol": metad.get("barrier_err_kcal_mol"),
                "metad_transition_seen": bool(metad.get("transition_seen")),
                "difference_kcal_mol": None, "combined_error_kcal_mol": None, "tolerance_kcal_mol": None,
                "agree": None, "rule": "no comparison: " + "; ".join(
                    x for x in (umbrella.get("barrier_note") if umbrella.get("barrier_kcal_mol") is None else "",
                                metad.get("barrier_note") if metad.get("barrier_kcal_mol") is None else "") if x)}
    d = float(umbrella["barrier_kcal_mol"]) - float(metad["barrier_kcal_mol"])
    err = math.hypot(float(metad.get("barrier_err_kcal_mol") or 0.0), float(umbrella["barrier_err_kcal_mol"]))
    tol = max(2.0 * err, kT)
    return {"metad_barrier_kcal_mol": float(metad["barrier_kcal_mol"]),
            "metad_err_kcal_mol": float(metad.get("barrier_err_kcal_mol") or 0.0),
            "metad_transition_seen": bool(metad.get("transition_seen")),
            "difference_kcal_mol": d, "combined_error_kcal_mol": err, "tolerance_kcal_mol": tol,
            "agree": bool(abs(d) <= tol),
            "rule": "agree when |umbrella - metad| <= max(2 sqrt(err_metad^2 + err_MBAR^2), 1 k_B T)"}


def inversion_umbrella(params_pkl: str, dataset: str, metad_json: str | None, out_h5: str, out_json: str,
                       block: dict, *, start: dict, seed: int, mapping: str = "?", stability: dict | None = None,
                       log: Callable | None = None) -> dict:
    """Umbrella sampling along the chirality improper of the trained model ``params_pkl`` (windows
    from the start basin through the planar state to the mirror basin, every window pulled from the
    frame nearest ``start``, vmapped, resumable per chunk in ``work/umbrella.h5``), its free energy
    by MBAR (:mod:`mapmatters.simulate.umbrella`) and the barrier with the same regions as the
    metadynamics summary; compared with ``metad_json`` when given. ``block``: the config block
    ``mlp.<system>.umbrella``. Writes ``out_h5`` (the engine's file) and ``out_json``."""
    from ..simulate.metad import dihedral_cv, inversion_regions, metad_config, run_metad
    from ..simulate.umbrella import mbar_profile, umbrella_barrier, window_centres
    from .simulation import model_system

    say = log or (lambda m: print(m, flush=True))
    settings = umbrella_settings(block)
    cfg = metad_config(settings)
    first = start_frame(dataset, start, mapping)
    quad, residue = chirality_quad(first["bead_names"], mapping)
    s_start = float(_quad_angle(first["positions"], quad))
    centres = window_centres(s_start, int(block["windows"]), planar=math.pi,
                             overshoot=float(block.get("overshoot_rad", 0.3)))
    say(f"[umbrella] {mapping}: {len(centres)} windows from {math.degrees(centres[0]):.0f} to "
        f"{math.degrees(centres[-1]):.0f} deg through 180, kappa {cfg['spring_kJ_mol_rad2']} kJ/mol/rad^2, "
        f"{cfg['length_ps']} ps each, pulled from the start frame's {math.degrees(s_start):.1f} deg")
    work = Path(out_h5).parent / "work"
    work.mkdir(parents=True, exist_ok=True)
    h5 = work / "umbrella.h5"
    seeds = [int(seed) * 1000 + k for k in range(len(centres))]
    engine = None
    if not (Path(out_h5).exists() and not h5.exists()):
        system, _ = model_system(params_pkl, dataset)
        W = len(centres)
        R0 = np.broadcast_to(first["positions"], (W,) + first["positions"].shape).copy()
        engine = run_metad(system, R0, dihedral_cv(quad), settings, seeds, h5, log=say,
                           window_centres=centres, pull_from=s_start)
        Path(str(h5) + ".state.npz").unlink(missing_ok=True)
        os.replace(h5, out_h5)
    import h5py

    with h5py.File(out_h5, "r") as f:
        cv, t, kT = f["cv"][()], f["time"][()], f["kT"][()]
    intact = intact_frames(out_h5, stability, *_reference_bonds(dataset, stability))
    discard = float(block.get("discard_ps", cfg["pull_ps"]))
    # MBAR over the windows that kept their molecule (None: every window fell apart)
    prof = mbar_profile(cv, centres, float(cfg["spring_kJ_mol_rad2"]), float(cfg["temperature_K"]), time_ps=t,
                        discard_ps=discard, planar=math.pi, bin_width=float(block.get("bin_width_rad", 0.1)),
                        intact=intact, min_frames=MIN_WINDOW_FRAMES)
    used = set() if prof is None else set(np.asarray(prof["windows_used"]).tolist())
    lost = [k for k in range(len(centres)) if k not in used]
    reg = inversion_regions(s_start)
    none = {"barrier_kJ_mol": None, "barrier_err_kJ_mol": None, "barrier_kcal_mol": None,
            "barrier_err_kcal_mol": None, "s_ts_rad": None, "s_min_rad": None}
    if lost:
        b = dict(none, barrier_note=f"{len(lost)} of {len(centres)} windows kept fewer than {MIN_WINDOW_FRAMES} intact "
                                    f"frames after the first {discard} ps (their molecule fell "
                                    f"apart; windows at {', '.join(f'{math.degrees(centres[k]):.0f}' for k in lost)} "
                                    "deg): the path is broken, no barrier")
    else:
        try:
            b = dict(umbrella_barrier(prof, reg["minimum"], reg["transition"]),
                     barrier_note=f"every window kept at least {MIN_WINDOW_FRAMES} intact frames")
        except ValueError as e:
            b = dict(none, barrier_note=str(e))
    if intact is not None:
        b["intact_fraction_per_window"] = intact.mean(axis=0).tolist()
    summary = {"mapping": mapping, "residue": residue, "quad": list(quad),
               "quad_beads": [first["bead_names"][q] for q in quad], "seeds": seeds,
               "start_improper_deg": math.degrees(s_start), "window_centres_deg": np.degrees(centres).tolist(),
               "regions_rad": {k: list(v) for k, v in reg.items()}, **b,
               "profile": None if prof is None else {k: _nan_to_none(v) for k, v in prof.items()},
               "mean_kT": float(np.nanmean(kT)), "settings": cfg,
               "driver": {k: block.get(k) for k in UMBRELLA_DRIVER_KEYS},
               "engine": None if engine is None else {k: engine[k] for k in ("n_frames", "reallocations", "speed")}}
    if metad_json:
        summary["comparison"] = compare_barriers(json.loads(Path(metad_json).read_text()), b)
    write_json(out_json, json.loads(json.dumps(summary, default=lambda o: o.tolist() if hasattr(o, "tolist")
                                               else str(o))))
    return summary


def _nan_to_none(v):
    """A number or array as JSON values, NaN (an unvisited bin) as null."""
    a = np.asarray(v)
    return np.where(np.isfinite(a), a, None).tolist() if a.dtype.kind == "f" else a.tolist()
