"""Umbrella sampling along one periodic CV and its free energy by MBAR: the independent check of
the metadynamics barrier (issue "Chiral inversion", part 3).

The windows run in the biased-sampling engine (:func:`mapmatters.simulate.metad.run_metad` with
``bias: umbrella``): walker k is restrained by ``kappa/2 wrap(s - c_k)^2``, its centre pulled from
the start basin to ``c_k`` during ``pull_ps``. Here: where the windows go (:func:`window_centres`)
and what the frames say (:func:`mbar_profile`, :func:`umbrella_barrier`).

Path coordinate: the windows run from the start basin ``s_start`` through the planar state
``planar`` to the mirror basin ``2 planar - s_start`` (for the chirality improper: L at about
+123 degrees, planar at 180, D at -123). Along that arc the CV is unwrapped as
``x = wrap(s - planar)`` (x = 0 at the planar state, the start basin at x < 0), so bins never
straddle the +-pi seam of s.

MBAR: PyMBAR 4 (:func:`pymbar.FES`, histogram PMF). The model energy is the same in every window,
so the reduced energy of frame n in window k is ``u_k(x_n) = kappa/2 wrap(s_n - c_k)^2 / k_B T``
and the unbiased state's is 0. Frames inside ``discard_ps`` (the pull plus relaxation) are
dropped; the rest are thinned by each window's statistical inefficiency of x
(:func:`pymbar.timeseries.statistical_inefficiency`) so the uncertainties are not over-confident.

PyMBAR imports JAX when it can and then switches JAX to 64-bit for the whole process, which
would change the float32 MD of anything run later in the same process; :func:`_pymbar` imports
it with JAX hidden, so it uses its numpy solvers (fast enough for a few tens of windows).
"""
from __future__ import annotations

import logging
import math
import sys

import numpy as np

from ..units import KB_KJ_MOL_K, KJ_TO_KCAL
from .metad import in_region, wrap_angle


def _pymbar():
    """PyMBAR with its numpy solvers (module docstring)."""
    mod = sys.modules.get("pymbar")
    if mod is not None and not mod.mbar_solvers.use_jit:
        return mod
    for k in [k for k in sys.modules if k == "pymbar" or k.startswith("pymbar.")]:
        del sys.modules[k]             # imported elsewhere with JAX: import it again without
    hidden = {k: sys.modules[k] for k in list(sys.modules) if k == "jax" or k.startswith("jax.")}
    for k in hidden:
        del sys.modules[k]
    sys.modules["jax"] = None          # "import jax" raises ImportError while pymbar loads
    quiet = logging.getLogger("pymbar.mbar_solvers")
    level = quiet.level
    quiet.setLevel(logging.ERROR)      # its "JAX NOT FOUND, install it" banner: JAX is hidden on purpose
    try:
        import pymbar
    finally:
        del sys.modules["jax"]
        sys.modules.update(hidden)
        quiet.setLevel(level)
    return pymbar


def window_centres(s_start: float, n_windows: int, planar: float = math.pi, overshoot: float = 0.3) -> np.ndarray:
    """``n_windows`` centres (rad, wrapped) evenly along the arc from ``s_start - overshoot`` (past
    the start basin, away from the planar state) through ``planar`` to the mirror image
    ``2 planar - s_start + overshoot``."""
    if n_windows < 2:
        raise ValueError("umbrella sampling needs at least 2 windows")
    x0 = float(wrap_angle(s_start - planar))
    reach = abs(x0) + overshoot
    if reach >= math.pi:
        raise ValueError(f"windows from {s_start:.2f} rad through {planar:.2f} rad with overshoot {overshoot} "
                         "would wrap around; use a smaller overshoot")
    x = np.linspace(-reach, reach, n_windows) * (1.0 if x0 <= 0 else -1.0)
    return np.asarray(wrap_angle(x + planar), np.float64)


def path_coordinate(s, planar: float = math.pi) -> np.ndarray:
    """x = wrap(s - planar) in [-pi, pi): 0 at the planar state (module docstring)."""
    return np.asarray(wrap_angle(np.asarray(s, np.float64) - planar))


def mbar_profile(cv, centres, spring: float, temperature_K: float, *, time_ps=None, discard_ps: float = 0.0,
                 planar: float = math.pi, bin_width: float = 0.15, subsample: bool = True, intact=None,
                 min_frames: int = 10) -> dict | None:
    """Free energy along the umbrella path by MBAR.

    ``cv`` (F, W) rad: each window's CV per frame; ``centres`` (W,) rad; ``spring`` kappa in
    kJ/mol/rad^2; ``time_ps`` (F,) frame times (frames with time <= ``discard_ps`` are dropped).
    Bins of ``bin_width`` rad on x (:func:`path_coordinate`) over the windows' range; bins no
    frame visited are NaN. Returns x_rad, s_rad (bin centres), F_kJ_mol (min 0), dF_kJ_mol (MBAR
    analytical uncertainty), counts, n_used per window, statistical inefficiency per window.
    ``intact`` (F, W) bool (:func:`mapmatters.analysis.stability.intact_mask`): a window's frames
    after its molecule fell apart are dropped; a window left with fewer than ``min_frames`` frames
    takes no part (its n_used is 0, ``windows_used`` says which did); None when no window is left."""
    pymbar = _pymbar()
    cv = np.asarray(cv, np.float64)
    F_, W = cv.shape
    c = np.asarray(centres, np.float64)
    if len(c) != W:
        raise ValueError(f"{W} windows of frames but {len(c)} centres")
    keep = np.ones(F_, bool) if time_ps is None else np.asarray(time_ps) > discard_ps
    if keep.sum() < 10:
        raise ValueError(f"only {int(keep.sum())} frames after discarding the first {discard_ps} ps")
    kT = KB_KJ_MOL_K * temperature_K
    ok = np.ones((F_, W), bool) if intact is None else np.asarray(intact, bool)
    samples, g, n_k, used = [], [], [], []
    for k in range(W):
        sk = cv[keep & ok[:, k], k]
        if len(sk) < min_frames:
            g.append(float("nan"))
            n_k.append(0)
            continue
        xk = path_coordinate(sk, planar)
        gk = float(pymbar.timeseries.statistical_inefficiency(xk)) if subsample else 1.0
        idx = pymbar.timeseries.subsample_correlated_data(xk, g=gk) if subsample else np.arange(len(xk))
        samples.append(sk[np.asarray(idx, int)])
        g.append(gk)
        n_k.append(len(idx))
        used.append(k)
    if not used:
        return None
    s_n = np.concatenate(samples)
    c_used = c[used]
    u_kn = 0.5 * spring * wrap_angle(s_n[None, :] - c_used[:, None]) ** 2 / kT
    x_n = path_coordinate(s_n, planar)
    xc = path_coordinate(c, planar)
    lo = min(xc.min(), x_n.min()) - 1e-9
    hi = max(xc.max(), x_n.max()) + 1e-9
    nb = max(2, int(math.ceil((hi - lo) / bin_width)))
    edges = np.linspace(lo, hi, nb + 1)
    mids = 0.5 * (edges[1:] + edges[:-1])
    counts = np.histogram(x_n, edges)[0]
    fes = pymbar.FES(u_kn, np.asarray(n_k)[used], verbose=False)
    fes.generate_fes(np.zeros_like(x_n), x_n, fes_type="histogram", histogram_parameters={"bin_edges": edges})
    visited = counts > 0
    res = fes.get_fes(mids[visited], reference_point="from-lowest", uncertainty_method="analytical")
    Fb = np.full(nb, np.nan)
    dFb = np.full(nb, np.nan)
    Fb[visited] = np.asarray(res["f_i"]) * kT
    dFb[visited] = np.asarray(res["df_i"]) * kT
    Fb -= np.nanmin(Fb)
    return {"x_rad": mids, "s_rad": np.asarray(wrap_angle(mids + planar)), "F_kJ_mol": Fb, "dF_kJ_mol": dFb,
            "counts": counts, "n_used": np.asarray(n_k), "statistical_inefficiency": np.asarray(g),
            "windows_used": np.asarray(used),
            "temperature_K": float(temperature_K), "bin_width_rad": float(edges[1] - edges[0])}


def umbrella_barrier(profile: dict, minimum_region, transition_region) -> dict:
    """Barrier of an MBAR profile as :func:`mapmatters.simulate.metad.barrier` defines it (max F over
    the bins in ``transition_region`` minus min F over the bins in ``minimum_region``, periodic
    intervals in s, rad), over visited bins only; its uncertainty from the two bins' MBAR errors
    added in quadrature (kJ/mol and kcal/mol)."""
    s, F, dF = (np.asarray(profile[k]) for k in ("s_rad", "F_kJ_mol", "dF_kJ_mol"))
    ok = np.isfinite(F)
    mt, mm = in_region(s, transition_region) & ok, in_region(s, minimum_region) & ok
    if not mt.any() or not mm.any():
        raise ValueError("the umbrella windows did not sample both the minimum and the transition region")
    it = np.flatnonzero(mt)[np.argmax(F[mt])]
    im = np.flatnonzero(mm)[np.argmin(F[mm])]
    b = float(F[it] - F[im])
    err = float(math.hypot(dF[it], dF[im]))
    return {"barrier_kJ_mol": b, "barrier_err_kJ_mol": err, "barrier_kcal_mol": b * KJ_TO_KCAL,
            "barrier_err_kcal_mol": err * KJ_TO_KCAL, "s_ts_rad": float(s[it]), "s_min_rad": float(s[im])}
