"""Biased sampling along one periodic CV in JAX: well-tempered metadynamics (WT-MetaD) and
umbrella windows, vmapped walkers, resumable.

The engine knows nothing of MLPs: it takes a :class:`mapmatters.simulate.md.System` (any energy
function of positions on a jax-md neighbour list, or ``neighbor_fn=None`` for an energy of the
positions alone) and a CV, a pure JAX function of the positions (:func:`dihedral_cv`).
Units: nm, ps, kJ/mol, amu, K, rad (kcal/mol only in reports, :data:`mapmatters.units.KJ_TO_KCAL`).

Bias (PLUMED's ``METAD ... BIASFACTOR``, one periodic CV in [-pi, pi))::

    V(s) = sum_k h_k exp(-d(s, s_k)^2 / (2 sigma^2)),   d = wrap(s - s_k) in [-pi, pi)
    h_new = h0 exp(-V(s_t) / (k_B (gamma - 1) T))       a hill every ``pace_steps`` steps

The hills live in fixed-size arrays (capacity = the number of hills the run deposits, unused
slots height 0) so a step compiles once; the bias is added to the model energy inside the jitted
step and the forces are ``-jax.grad`` of the sum (no host round trip per step).

Umbrella windows (``bias: umbrella``, the independent check of the metadynamics barrier): walker
k feels a harmonic restraint ``V_k(s) = kappa/2 wrap(s - c_k(t))^2`` (``spring_kJ_mol_rad2``),
whose centre is pulled from ``pull_from`` (rad) to its window centre ``c_k`` along the shorter arc
during the first ``pull_ps`` (steered start: every window starts from the same frame), then held;
no hills. The frames' CV and bias are what MBAR needs (:mod:`mapmatters.simulate.umbrella`).

Integrator: ``jax_md.simulate.nvt_langevin`` (BAOAB), ``friction_per_ps`` a rate in 1/ps, as in
:mod:`mapmatters.simulate.md`. Protocol: ``unbiased_steps`` plain Langevin steps (no hills),
then ``length_ps`` of WT-MetaD; metadynamics time t = 0 at its start, a hill at t = 0, pace,
2 pace, ... (before the step, at the current CV; PLUMED's convention), so
``capacity = ceil(n_steps / pace)``.

Loop: as :mod:`.md`, walkers vmapped (each its own seed and its own bias), a jitted chunk is a
``lax.scan`` over frames of a ``lax.fori_loop`` over steps; after each chunk the frames and the
new hills are appended to HDF5 and the state (integrator state + hills + step) is saved
atomically beside it (``out.h5.state.npz``), so a killed run resumes from its last chunk and
deposits the same hills as an uninterrupted one. Neighbour-list overflow: the chunk is thrown
away, the lists re-allocated with more room and the chunk redone.

Output (``out.h5``)::

    /cv            float32 (F, W)   CV at each frame, rad
    /bias          float32 (F, W)   V(s) at each frame, kJ/mol
    /epot          float32 (F, W)   model (unbiased) energy, kJ/mol
    /kT            float32 (F, W)   kinetic k_B T, kJ/mol
    /positions     float32 (F, W, N, 3) bead positions, nm (what the stability criterion reads)
    /time          float64 (F,)     ps since the start of metadynamics
    /hills/time    float64 (K,)     ps, deposition time
    /hills/centre  float32 (K, W)   rad
    /hills/height  float32 (K, W)   kJ/mol (already well-tempered scaled)
    attrs: settings (JSON), seeds, sigma_rad, bias_factor, temperature_K, n_frames_done, n_hills_done

Free energy (numpy, :func:`free_energy`): F(s) = -(gamma / (gamma - 1)) V(s) on a grid, minimum
shifted to 0; :func:`barrier`, :func:`barrier_vs_time`, :func:`eyring_wait_time_ps`,
:func:`no_crossing_lower_bound`.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..config import with_defaults
from ..units import KB_KJ_MOL_K, PLANCK_KJ_MOL_PS

TWO_PI = 2.0 * math.pi

METAD_DEFAULTS: dict[str, Any] = {
    "temperature_K": 300.0,
    "dt_ps": 0.001,
    "friction_per_ps": 10.0,        # Langevin friction rate (damping time 100 fs)
    "height_kJ_mol": 0.8368,        # 0.2 kcal/mol
    "sigma_rad": 0.1,
    "pace_steps": 500,
    "bias_factor": 5.0,
    "unbiased_steps": 500,
    "length_ps": 5000.0,            # metadynamics part, after the unbiased steps
    "frames_every_ps": 1.0,         # CV / energy frames
    "frames_per_chunk": 100,        # frames between disk writes / checkpoints
    "capacity_margin": 1.5,         # neighbour slots = margin * edges at (re)allocation
    "max_realloc": 20,
    "bias": "metad",                # "metad" (hills) or "umbrella" (one harmonic window per walker)
    "spring_kJ_mol_rad2": 400.0,    # umbrella: kappa
    "pull_ps": 0.0,                 # umbrella: time to move the centre from pull_from to c_k
}


def metad_config(settings: dict | None = None, **overrides) -> dict:
    """Settings with defaults (:data:`METAD_DEFAULTS`, the authors' protocol) and the derived loop
    counts ``steps_per_frame``, ``n_frames``, ``n_steps`` (metadynamics steps) and ``capacity``
    (hills per walker). Raises when frames_every_ps is not a multiple of dt_ps or does not divide
    length_ps."""
    cfg = with_defaults(METAD_DEFAULTS, settings, overrides, "metadynamics settings")
    spf = cfg["frames_every_ps"] / cfg["dt_ps"]
    nfr = cfg["length_ps"] / cfg["frames_every_ps"]
    if abs(spf - round(spf)) > 1e-6 or abs(nfr - round(nfr)) > 1e-6:
        raise ValueError(f"metadynamics: frames_every_ps ({cfg['frames_every_ps']}) must be a multiple "
                         f"of dt_ps ({cfg['dt_ps']}) and divide length_ps ({cfg['length_ps']})")
    if cfg["bias"] not in ("metad", "umbrella"):
        raise ValueError(f"bias: '{cfg['bias']}' is neither 'metad' nor 'umbrella'")
    if cfg["bias"] == "metad" and cfg["bias_factor"] <= 1.0:
        raise ValueError("bias_factor must be > 1 (well-tempered)")
    if cfg["bias"] == "umbrella" and (cfg["spring_kJ_mol_rad2"] <= 0 or cfg["pull_ps"] < 0):
        raise ValueError("umbrella: spring_kJ_mol_rad2 must be > 0 and pull_ps >= 0")
    spf, nfr = int(round(spf)), int(round(nfr))
    n_steps = spf * nfr
    # umbrella: slot 0 holds (c_k, kappa), slot 1 the pull start (pull_from, 0)
    capacity = 2 if cfg["bias"] == "umbrella" else -(-n_steps // int(cfg["pace_steps"]))
    return {**cfg, "steps_per_frame": spf, "n_frames": nfr, "n_steps": n_steps, "capacity": capacity,
            "pull_steps": int(round(cfg["pull_ps"] / cfg["dt_ps"]))}


# ------------------------------------------------------------------------------ CV and bias
def wrap_angle(d):
    """Angle(s) wrapped into [-pi, pi) (jax or numpy arrays)."""
    return (d + math.pi) % TWO_PI - math.pi


def jax_dihedral(R, quad, side=None):
    """Dihedral i-j-k-l (radians, [-pi, pi]) of positions R (N, 3) in JAX, the same formula and
    IUPAC sign as :func:`mapmatters.geometry.dihedrals` (minimum image for an orthorhombic
    ``side``). Differentiable except where it is undefined (collinear beads)."""
    import jax.numpy as jnp

    from ..geometry import jax_minimum_image

    i, j, k, l = (int(q) for q in quad)
    b1 = jax_minimum_image(R[j] - R[i], side)
    b2 = jax_minimum_image(R[k] - R[j], side)
    b3 = jax_minimum_image(R[l] - R[k], side)
    n1 = jnp.cross(b1, b2)
    n2 = jnp.cross(b2, b3)
    y = jnp.linalg.norm(b2) * jnp.dot(b1, n2)
    return jnp.arctan2(y, jnp.dot(n1, n2))


def dihedral_cv(quad, box=None) -> Callable:
    """The CV ``R -> phi`` of a bead quadruple: a dihedral, or an improper spelled as
    :func:`mapmatters.geometry.impropers` takes it (chirality: N-CA-CB-C, centre second).
    ``box`` None (free space) or an orthorhombic box."""
    from ..geometry import box_side

    side = box_side(box)
    if len(quad) != 4:
        raise ValueError("a dihedral CV needs 4 bead indices")
    quad = tuple(int(q) for q in quad)
    return lambda R: jax_dihedral(R, quad, side)


improper_cv = dihedral_cv


def bias_potential(s, centres, heights, sigma):
    """V(s) = sum_k h_k exp(-wrap(s - s_k)^2 / (2 sigma^2)) in JAX; s scalar, centres and heights
    (K,) (empty slots have height 0)."""
    import jax.numpy as jnp

    d = wrap_angle(s - centres)
    return jnp.sum(heights * jnp.exp(-0.5 * (d / sigma) ** 2))


def harmonic_restraint(s, centre, spring):
    """kappa/2 wrap(s - c)^2 (kJ/mol for kappa in kJ/mol/rad^2), JAX or numpy."""
    return 0.5 * spring * wrap_angle(s - centre) ** 2


def pulled_centre(t, centres, pull_steps: int):
    """Umbrella centre at step t: from ``centres[1]`` to ``centres[0]`` along the shorter arc over
    ``pull_steps`` steps, then ``centres[0]``."""
    import jax.numpy as jnp

    if pull_steps <= 0:
        return centres[0]
    u = jnp.clip(t / pull_steps, 0.0, 1.0)
    return wrap_angle(centres[1] + u * wrap_angle(centres[0] - centres[1]))


def well_tempered_height(v_now, h0, bias_factor, kT):
    """h0 exp(-V(s_t) / (k_B T (gamma - 1))), kT in kJ/mol."""
    import jax.numpy as jnp

    return h0 * jnp.exp(-v_now / (kT * (bias_factor - 1.0)))


def biased_energy_fn(system, cv_fn: Callable, sigma: float, bias_fn: Callable | None = None) -> Callable:
    """``E(R, neighbor=, centres=, heights=) = system energy + V(cv(R))`` (kJ/mol); V the hills
    (:func:`bias_potential` with ``sigma``) or ``bias_fn(s, centres, heights)``."""
    efn = system.energy_fn
    plain = system.neighbor_fn is None
    bias = bias_fn or (lambda s, c, h: bias_potential(s, c, h, sigma))

    def total(R, neighbor=None, centres=None, heights=None, **_):
        e = efn(R) if plain else efn(R, neighbor=neighbor)
        return e + bias(cv_fn(R), centres, heights)

    return total


# ------------------------------------------------------------------------------ engine
class _Engine:
    """The jitted pieces, built once per (system, cv, settings)."""

    def __init__(self, system, cv_fn, cfg):
        import jax
        import jax.numpy as jnp
        from jax_md import simulate

        from .md import _shift

        self.cfg = cfg
        kT = KB_KJ_MOL_K * cfg["temperature_K"]
        self.kT = kT
        sigma = float(cfg["sigma_rad"])
        h0 = float(cfg["height_kJ_mol"])
        gamma = float(cfg["bias_factor"])
        pace = int(cfg["pace_steps"])
        spf = int(cfg["steps_per_frame"])
        fpc = int(cfg["frames_per_chunk"])
        n_steps = int(cfg["n_steps"])
        plain = system.neighbor_fn is None
        efn = system.energy_fn
        umbrella = cfg["bias"] == "umbrella"
        pull = int(cfg["pull_steps"])
        if umbrella:   # the carry's centres hold the current centre in slot 0 (see step)
            def bias_fn(s, c, h):
                return harmonic_restraint(s, c[0], h[0])
        else:
            def bias_fn(s, c, h):
                return bias_potential(s, c, h, sigma)
        total = biased_energy_fn(system, cv_fn, sigma, bias_fn)
        mass = jnp.asarray(system.masses, jnp.float32)[:, None]
        n = len(system.masses)
        init, apply = simulate.nvt_langevin(total, _shift(system.box), cfg["dt_ps"], kT,
                                             gamma=cfg["friction_per_ps"])

        def upd(nbrs, R):
            return nbrs if plain else nbrs.update(R)

        def ovf_of(nbrs):
            return jnp.zeros((), bool) if plain else nbrs.did_buffer_overflow != 0

        def walker_init(key, R, nbrs, centres, heights):
            return init(key, R, mass=mass, neighbor=upd(nbrs, R), centres=centres, heights=heights)

        def step(t, c, deposit):
            """One step at metadynamics step t (unbatched): maybe a hill, then BAOAB."""
            state, nbrs, centres, heights, ovf = c
            if deposit:
                def add(ch):
                    cen, hei = ch
                    s = cv_fn(state.position)
                    h = well_tempered_height(bias_potential(s, cen, hei, sigma), h0, gamma, kT)
                    k = t // pace
                    return cen.at[k].set(s), hei.at[k].set(h)
                centres, heights = jax.lax.cond((t % pace == 0) & (t < n_steps), add,
                                                lambda ch: ch, (centres, heights))
            nbrs = upd(nbrs, state.position)
            ovf = ovf | ovf_of(nbrs)
            now = centres
            if umbrella:
                now = centres.at[0].set(pulled_centre(t, centres, pull))
            state = apply(state, neighbor=nbrs, centres=now, heights=heights)
            return state, nbrs, centres, heights, ovf

        def record(state, nbrs, centres, heights, t):
            R = state.position
            nb = upd(nbrs, R)
            p = state.momentum
            s = cv_fn(R)
            if umbrella:
                centres = centres.at[0].set(pulled_centre(t, centres, pull))
            return {"cv": s, "bias": bias_fn(s, centres, heights),
                    "epot": efn(R) if plain else efn(R, neighbor=nb),
                    "kT": jnp.sum(p * p / mass) / (3 * n), "positions": R}, ovf_of(nb)

        # The step counter t is a scalar shared by all walkers (vmap in_axes None), so the
        # deposition test is a real branch, not a select computed every step.
        def chunk(state, nbrs, centres, heights, t0):
            def one_frame(carry, f):
                t_frame = t0 + f * spf
                c = jax.lax.fori_loop(0, spf, lambda i, c: step(t_frame + i, c, not umbrella), carry)
                rec, o = record(c[0], c[1], c[2], c[3], t_frame + spf)
                return c[:4] + (c[4] | o,), rec

            carry = (state, nbrs, centres, heights, jnp.zeros((), bool))
            carry, rec = jax.lax.scan(one_frame, carry, jnp.arange(fpc))
            return carry, rec

        def unbiased(state, nbrs, centres, heights, n_unb):
            c = (state, nbrs, centres, heights, jnp.zeros((), bool))
            return jax.lax.fori_loop(0, n_unb, lambda i, c: step(0, c, False), c)

        self._init_v = jax.jit(jax.vmap(walker_init))
        self._chunk = jax.jit(jax.vmap(chunk, in_axes=(0, 0, 0, 0, None)))
        self._unbiased = jax.jit(jax.vmap(unbiased, in_axes=(0, 0, 0, 0, None)), static_argnums=4)


def _nbrs(system, R, capacity):
    """Batched neighbour lists (None placeholders for an energy without a neighbour list)."""
    import jax.numpy as jnp

    from .md import _alloc_batched

    if system.neighbor_fn is None:
        return jnp.zeros((len(R),), jnp.float32)   # a dummy batched leaf, never used
    return _alloc_batched(system, R, capacity)


def run_metad(system, R0, cv_fn: Callable, settings: dict | None, seeds, out_path,
              log: Callable | None = None, *, resume: bool = True,
              stop_after_chunks: int | None = None, window_centres=None, pull_from: float | None = None) -> dict:
    """WT-MetaD of ``len(R0)`` walkers from positions ``R0`` (W, N, 3); writes ``out_path``.

    ``system``: :class:`mapmatters.simulate.md.System` (``neighbor_fn`` None: ``energy_fn(R)``);
    ``cv_fn``: R (N, 3) -> scalar angle (rad, periodic), e.g. :func:`dihedral_cv`;
    ``settings``: :data:`METAD_DEFAULTS` keys; ``seeds`` (W,) ints, one random stream per walker.
    Resumes from ``out_path`` + ``.state.npz`` when present (same settings required).
    ``stop_after_chunks`` stops after that many chunks this call (tests of resume).
    Umbrella (``bias: umbrella``): ``window_centres`` (W,) rad, one per walker, and ``pull_from``
    (rad, default the first walker's start CV) where every centre starts its pull; the
    ``unbiased_steps`` are then restrained at ``pull_from``.
    Returns a summary: frames, hills, speed, mean kinetic kT.
    """
    import h5py
    import jax
    import jax.numpy as jnp

    from .md import _edges_needed, _speed, _state_from_np, _state_to_np

    cfg = metad_config(settings)
    out_path = Path(out_path)
    state_path = Path(str(out_path) + ".state.npz")
    say = log or (lambda m: print(m, flush=True))
    R0 = np.asarray(R0, np.float32)
    W = R0.shape[0]
    seeds = np.asarray(seeds, np.int64)
    if len(seeds) != W:
        raise ValueError("need one seed per walker")
    cache = system.__dict__.setdefault("_metad_cache", {})
    ckey = (id(cv_fn), json.dumps(cfg, sort_keys=True))
    eng = cache.get(ckey) or cache.setdefault(ckey, _Engine(system, cv_fn, cfg))
    fpc, spf, K = int(cfg["frames_per_chunk"]), int(cfg["steps_per_frame"]), int(cfg["capacity"])
    every_ps, dt, pace = cfg["frames_every_ps"], cfg["dt_ps"], int(cfg["pace_steps"])
    cfg_json = json.dumps(cfg, sort_keys=True)
    keys = jax.vmap(jax.random.PRNGKey)(jnp.asarray(seeds))
    plain = system.neighbor_fn is None
    umbrella = cfg["bias"] == "umbrella"
    tag = "umbrella" if umbrella else "metad"     # log prefix
    frame_names = ("cv", "bias", "epot", "kT")

    realloc = 0
    if resume and state_path.exists() and out_path.exists():
        ck = dict(np.load(state_path, allow_pickle=False))
        if json.loads(str(ck.pop("config"))) != cfg:
            raise ValueError(f"{state_path}: written with other metadynamics settings; delete it to restart")
        done = int(ck.pop("n_frames_done"))
        capacity = int(ck.pop("capacity"))
        centres, heights = jnp.asarray(ck.pop("centres")), jnp.asarray(ck.pop("heights"))
        nbrs = _nbrs(system, ck["position"], capacity)
        tmpl = eng._init_v(keys, jnp.asarray(ck["position"]), nbrs, centres, heights)
        state = _state_from_np(tmpl, ck)
        f = h5py.File(out_path, "r+")
        if "positions" not in f:
            f.close()
            raise ValueError(f"{out_path}: written before positions were recorded; delete it and "
                             f"{state_path.name} to restart")
        for name in frame_names + ("time", "positions"):
            f[name].resize(done, axis=0)
        say(f"[{tag}] resume {out_path} at frame {done}/{cfg['n_frames']}")
    else:
        done = 0
        capacity = 0 if plain else int(np.ceil(_edges_needed(system, R0) * cfg["capacity_margin"]))
        nbrs = _nbrs(system, R0, capacity)
        centres = jnp.zeros((W, K), jnp.float32)
        heights = jnp.zeros((W, K), jnp.float32)
        if umbrella:
            if window_centres is None or len(window_centres) != W:
                raise ValueError("umbrella: need one window centre per walker")
            s0 = float(cv_fn(jnp.asarray(R0[0]))) if pull_from is None else float(pull_from)
            centres = jnp.stack([jnp.asarray(window_centres, jnp.float32),
                                 jnp.full((W,), s0, jnp.float32)], axis=1)
            heights = heights.at[:, 0].set(float(cfg["spring_kJ_mol_rad2"]))
        state = eng._init_v(keys, jnp.asarray(R0), nbrs, centres, heights)
        n_unb = int(cfg["unbiased_steps"])
        state0 = state
        while n_unb:   # plain Langevin, no hills; on overflow redo it with more room
            state, nbrs_new, _, _, ovf = eng._unbiased(state0, nbrs, centres, heights, n_unb)
            if not np.any(np.asarray(ovf)):
                nbrs = nbrs_new
                break
            realloc += 1
            if realloc > cfg["max_realloc"]:
                raise RuntimeError("neighbour list keeps overflowing; giving up")
            capacity = max(int(np.ceil(_edges_needed(system, np.asarray(state.position))
                                       * cfg["capacity_margin"])), int(np.ceil(capacity * 1.5)))
            say(f"[{tag}] neighbour list overflow in the unbiased steps: capacity -> {capacity}, redo")
            nbrs = _nbrs(system, R0, capacity)
        tmp = Path(str(out_path) + ".tmp")
        f = h5py.File(tmp, "w")
        ch = max(1, min(fpc, 256))
        for name in frame_names:
            f.create_dataset(name, (0, W), maxshape=(None, W), dtype="f4", chunks=(ch, W))
        f.create_dataset("time", (0,), maxshape=(None,), dtype="f8", chunks=(ch,))
        N = R0.shape[1]
        f.create_dataset("positions", (0, W, N, 3), maxshape=(None, W, N, 3), dtype="f4", chunks=(ch, W, N, 3))
        g = f.create_group("hills")
        g.create_dataset("time", (0,), maxshape=(K,), dtype="f8")
        g.create_dataset("centre", (0, W), maxshape=(K, W), dtype="f4")
        g.create_dataset("height", (0, W), maxshape=(K, W), dtype="f4")
        f.attrs.update(settings=cfg_json, seeds=seeds, sigma_rad=cfg["sigma_rad"],
                       bias_factor=cfg["bias_factor"], temperature_K=cfg["temperature_K"],
                       units="nm, ps, kJ/mol, amu, rad", n_frames_done=0, n_hills_done=0)
        f.attrs["bias"] = cfg["bias"]
        if umbrella:
            f.attrs.update(window_centres_rad=np.asarray(centres[:, 0]), pull_from_rad=float(centres[0, 1]),
                           spring_kJ_mol_rad2=float(cfg["spring_kJ_mol_rad2"]))
        f.close()
        os.replace(tmp, out_path)
        f = h5py.File(out_path, "r+")

    timings, compiled, chunks_run = [], False, 0
    try:
        while done < cfg["n_frames"]:
            if stop_after_chunks is not None and chunks_run >= stop_after_chunks:
                break
            t0 = time.perf_counter()
            (new_state, new_nbrs, new_c, new_h, ovf), rec = eng._chunk(state, nbrs, centres, heights,
                                                                       jnp.int32(done * spf))
            rec = jax.tree.map(np.asarray, rec)   # (W, fpc)
            secs = time.perf_counter() - t0
            if np.any(np.asarray(ovf)):
                realloc += 1
                if realloc > cfg["max_realloc"]:
                    raise RuntimeError("neighbour list keeps overflowing; giving up")
                pos = np.asarray(state.position)
                capacity = max(int(np.ceil(_edges_needed(system, pos) * cfg["capacity_margin"])),
                               int(np.ceil(capacity * 1.5)))
                say(f"[{tag}] neighbour list overflow at frame {done}: capacity -> {capacity}, redo chunk")
                nbrs = _nbrs(system, pos, capacity)
                continue
            if compiled:
                timings.append((fpc * spf, secs))
            compiled = True
            take = min(fpc, cfg["n_frames"] - done)
            for name in frame_names:
                f[name].resize(done + take, axis=0)
                f[name][done:] = rec[name][:, :take].T
            f["positions"].resize(done + take, axis=0)
            f["positions"][done:] = np.swapaxes(rec["positions"][:, :take], 0, 1)
            f["time"].resize(done + take, axis=0)
            f["time"][done:] = (np.arange(done, done + take) + 1) * every_ps
            h_old = int(f.attrs["n_hills_done"])
            h_new = 0 if umbrella else min(K, -(-(done + take) * spf // pace))
            g = f["hills"]
            for name in ("time", "centre", "height"):
                g[name].resize(h_new, axis=0)
            g["time"][h_old:] = np.arange(h_old, h_new) * pace * dt
            g["centre"][h_old:] = np.asarray(new_c)[:, h_old:h_new].T
            g["height"][h_old:] = np.asarray(new_h)[:, h_old:h_new].T
            done += take
            f.attrs["n_frames_done"] = done
            f.attrs["n_hills_done"] = h_new
            f.flush()
            state, nbrs, centres, heights = new_state, new_nbrs, new_c, new_h
            ck = _state_to_np(state)
            ck.update(n_frames_done=done, capacity=capacity, config=cfg_json,
                      centres=np.asarray(centres), heights=np.asarray(heights))
            tmp = Path(str(state_path) + ".tmp.npz")
            np.savez(tmp, **ck)
            os.replace(tmp, state_path)
            chunks_run += 1
            say(f"[{tag}] frame {done}/{cfg['n_frames']} ({done * every_ps:.1f} ps), {h_new} hills, "
                f"bias at CV mean {np.mean(rec['bias'][:, take - 1]):.2f} kJ/mol, {secs:.1f} s/chunk")
        speed = _speed(timings, dt, W)
        f.attrs["speed"] = json.dumps(speed)
        kT_all = f["kT"][()]
        n_hills = int(f.attrs["n_hills_done"])
    finally:
        f.close()
    return {"n_frames": done, "n_walkers": W, "n_hills": n_hills, "complete": done >= cfg["n_frames"],
            "reallocations": realloc, "speed": speed,
            "mean_kT": float(np.nanmean(kT_all)) if len(kT_all) else float("nan"),
            "target_kT": eng.kT}


def read_hills(path) -> dict:
    """Hills of a :func:`run_metad` output: time (K,), centre (K, W), height (K, W), sigma,
    bias_factor, temperature_K."""
    import h5py

    with h5py.File(path, "r") as f:
        return {"time": f["hills/time"][()], "centre": f["hills/centre"][()],
                "height": f["hills/height"][()], "sigma": float(f.attrs["sigma_rad"]),
                "bias_factor": float(f.attrs["bias_factor"]),
                "temperature_K": float(f.attrs["temperature_K"])}


# ------------------------------------------------------------------------------ free energy
def angle_grid(n: int = 360) -> np.ndarray:
    """``n`` grid points covering [-pi, pi) (rad)."""
    return -math.pi + TWO_PI * np.arange(n) / n


def bias_on_grid(centres, heights, sigma: float, grid) -> np.ndarray:
    """V on the grid (numpy, periodic Gaussians): centres and heights (K,) or (K, W) -> (G,) or
    (G, W)."""
    c, h = np.asarray(centres, np.float64), np.asarray(heights, np.float64)
    g = np.asarray(grid, np.float64)
    d = wrap_angle(g.reshape((-1,) + (1,) * c.ndim) - c[None])
    return np.sum(h[None] * np.exp(-0.5 * (d / sigma) ** 2), axis=1)


def free_energy(centres, heights, sigma: float, bias_factor: float, grid) -> np.ndarray:
    """F(s) = -(gamma/(gamma - 1)) V(s) on the grid, minimum shifted to 0 (per walker column)."""
    F = -(bias_factor / (bias_factor - 1.0)) * bias_on_grid(centres, heights, sigma, grid)
    return F - F.min(axis=0)


def in_region(s, region) -> np.ndarray:
    """Mask of angles s in the periodic interval ``region`` = (lo, hi), rad: lo <= s <= hi, or,
    when lo > hi, the interval through +-pi (s >= lo or s <= hi)."""
    lo, hi = region
    s = wrap_angle(np.asarray(s, np.float64))
    lo, hi = wrap_angle(lo), wrap_angle(hi)
    return (s >= lo) & (s <= hi) if lo <= hi else (s >= lo) | (s <= hi)


def barrier(F, grid, minimum_region, transition_region) -> dict:
    """Barrier = max F over the grid points in ``transition_region`` minus min F over the grid
    points in ``minimum_region`` (periodic intervals, :func:`in_region`).

    Extrema are found on the grid: plain max / min of F over the grid points inside each region
    (no interpolation; choose a grid finer than sigma, e.g. :func:`angle_grid` (360) = 1 degree).
    For a chirality improper the transition region is the planar one around 0 (|s| small), the
    minimum region the start (L) basin. ``F`` (G,) or (G, W); returns barrier, s_ts, s_min (per
    column for 2-D F), kJ/mol and rad."""
    F, g = np.asarray(F, np.float64), np.asarray(grid, np.float64)
    mt, mm = in_region(g, transition_region), in_region(g, minimum_region)
    if not mt.any() or not mm.any():
        raise ValueError("a region holds no grid point")
    Ft = np.where(mt.reshape((-1,) + (1,) * (F.ndim - 1)), F, -np.inf)
    Fm = np.where(mm.reshape((-1,) + (1,) * (F.ndim - 1)), F, np.inf)
    its, imin = Ft.argmax(axis=0), Fm.argmin(axis=0)
    return {"barrier": Ft.max(axis=0) - Fm.min(axis=0), "s_ts": g[its], "s_min": g[imin]}


def jackknife_barrier(F_walkers, grid, minimum_region, transition_region) -> dict:
    """The barrier of the walker-averaged F and its jackknife standard error over walkers.

    ``F_walkers`` (G, W): each walker's F on ``grid``. The estimate is the barrier (:func:`barrier`)
    of the mean over walkers, shifted to min 0; leaving walker i out gives b_i, and the error is
    sqrt((W - 1)/W sum_i (b_i - mean b)^2) (0 for one walker). Preferred over the mean of the
    per-walker barriers, which leans high: each walker's max over a noisy F is biased upward
    (measured on the exact 5 kB T dihedral at the default preset's hills: walker mean 5.7 kB T,
    walker-averaged F 5.1 and 4.6 kB T, tests/unit/test_metad.py)."""
    F = np.asarray(F_walkers, np.float64)
    W = F.shape[1]

    def b_of(cols):
        Fm = F[:, cols].mean(axis=1)
        return float(barrier(Fm - Fm.min(), grid, minimum_region, transition_region)["barrier"])

    est = b_of(np.arange(W))
    if W < 2:
        return {"barrier": est, "error": 0.0, "leave_one_out": []}
    loo = np.array([b_of(np.delete(np.arange(W), i)) for i in range(W)])
    err = float(np.sqrt((W - 1) / W * np.sum((loo - loo.mean()) ** 2)))
    return {"barrier": est, "error": err, "leave_one_out": loo.tolist()}


def barrier_vs_time(hills: dict, grid, minimum_region, transition_region, times=None,
                    walker_mean: bool = True) -> dict:
    """Convergence: the barrier from the hills deposited up to each time in ``times`` (ps; default
    20 evenly spaced). With ``walker_mean`` the barrier of the walker-averaged F (mean of the per
    walker F) is reported too. Returns times, barrier (T, W), barrier_mean (T,)."""
    ht = np.asarray(hills["time"])
    times = np.linspace(ht[-1] / 20, ht[-1], 20) if times is None else np.asarray(times, float)
    per, mean = [], []
    for t in times:
        k = ht <= t + 1e-9
        F = free_energy(hills["centre"][k], hills["height"][k], hills["sigma"], hills["bias_factor"], grid)
        per.append(barrier(F, grid, minimum_region, transition_region)["barrier"])
        if walker_mean:
            Fm = F.mean(axis=1)
            mean.append(barrier(Fm - Fm.min(), grid, minimum_region, transition_region)["barrier"])
    return {"times": times, "barrier": np.asarray(per), "barrier_mean": np.asarray(mean)}


def eyring_wait_time_ps(barrier_kJ_mol, temperature_K: float = 300.0):
    """Eyring wait time tau = h / (k_B T) exp(F / (k_B T)) in ps (h/(k_B T) = 0.160 ps at 300 K)."""
    kT = KB_KJ_MOL_K * temperature_K
    return PLANCK_KJ_MOL_PS / kT * np.exp(np.asarray(barrier_kJ_mol, np.float64) / kT)


def crossed(cv, transition_region, other_region=None) -> np.ndarray:
    """Per walker (columns of ``cv`` (F, W)): did the CV ever enter ``other_region`` (the far
    basin) or, when it is None, the transition region?"""
    cv = np.asarray(cv)
    return in_region(cv, other_region if other_region is not None else transition_region).any(axis=0)


def first_crossing_ps(cv, time_ps, transition_region, other_region=None) -> list:
    """Per walker (columns of ``cv`` (F, W)): the time (ps, from ``time_ps`` (F,)) of the first frame
    in ``other_region`` (or the transition region when None), None for a walker that never got
    there."""
    inside = in_region(np.asarray(cv), other_region if other_region is not None else transition_region)
    t = np.asarray(time_ps, np.float64)
    return [float(t[np.argmax(col)]) if col.any() else None for col in inside.T]


def no_crossing_lower_bound(hills: dict, grid, minimum_region, transition_region) -> np.ndarray:
    """Lower bound on the barrier (kJ/mol, per walker) for walkers that never crossed: the bias
    deposited at the start minimum, V(s_min) minus the largest V in the transition region
    (about 0 when it was never visited). The walker stayed in its basin with that bias added,
    so the barrier seen from the minimum is at least as high. Deliberately without the
    gamma/(gamma-1) factor of :func:`free_energy` (conservative)."""
    V = bias_on_grid(hills["centre"], hills["height"], hills["sigma"], grid)
    g = np.asarray(grid)
    mm, mt = in_region(g, minimum_region), in_region(g, transition_region)
    return V[mm].max(axis=0) - V[mt].max(axis=0)


def hills_until(hills: dict, t_end) -> dict:
    """``hills`` with every hill deposited after ``t_end`` (ps, one per walker (W,)) set to height 0:
    what each walker deposited while it still counted (:func:`analyse_metad`)."""
    ht = np.asarray(hills["time"])
    return dict(hills, height=np.where(ht[:, None] <= np.asarray(t_end)[None, :] + 1e-9, hills["height"], 0.0))


def escape_bias(hills: dict, grid, minimum_region, transition_region, t_cross: float, walker: int) -> float:
    """The bias walker ``walker`` needed to leave its basin (kJ/mol): :func:`no_crossing_lower_bound`
    from the hills it deposited before its first crossing at ``t_cross`` (ps). A rough barrier
    estimate that needs no converged F, so it exists for a walker whose molecule fell apart after
    it crossed; it leans high when hills come faster than the walker relaxes."""
    k = np.asarray(hills["time"]) < t_cross - 1e-9
    h = {**hills, "centre": hills["centre"][k, walker], "height": hills["height"][k, walker]}
    return float(no_crossing_lower_bound(h, grid, minimum_region, transition_region))


def inversion_regions(s_start: float, half_width: float = 0.6, planar: float = math.pi) -> dict:
    """Regions (periodic intervals, rad) for a chiral inversion along an improper CV started at
    ``s_start``: ``minimum`` (the start basin, centred on ``s_start``), ``other`` (the mirror
    basin, centred on ``-s_start``) and ``transition`` (centred on ``planar``), each
    ``+- half_width``.

    For the improper N-CA-CB-C (:func:`mapmatters.geometry.impropers`, centre second) the L
    enantiomer sits at about +120 degrees (+123 in the alanine reference start frame), D at -120,
    and the planar state (CB in the N-CA-C plane, between N and C) at **+-180 degrees**, not 0:
    looking along CA->CB, N and C project on opposite sides. Hence ``planar=pi`` by default;
    0 would be the (unphysical) eclipsed state."""
    w = float(half_width)
    s0 = float(wrap_angle(s_start))
    return {"minimum": (s0 - w, s0 + w), "other": (-s0 - w, -s0 + w),
            "transition": (planar - w, planar + w)}


def analyse_metad(path, minimum_region, transition_region, other_region=None, n_grid: int = 360,
                  times=None, intact=None) -> dict:
    """Everything the report needs from a :func:`run_metad` output (JSON-able): per walker and
    walker-averaged F barrier (kJ/mol and kcal/mol), where the extrema are, barrier vs time,
    which walkers crossed (entered ``other_region``, or the transition region when None), the
    no-crossing lower bound, and the Eyring wait times at the run temperature.

    ``intact`` (F, W) bool (:func:`mapmatters.analysis.stability.intact_mask`): frames after a
    walker's molecule fell apart do not count. Such a walker's hills stop at its last intact
    frame and its later crossings are not crossings. The barrier comes from the *usable* walkers
    only: intact for the whole run and crossed. None when there is no usable walker (then
    ``barrier_note`` says why, and the lower bound stands when nobody crossed)."""
    import h5py

    from ..units import KJ_TO_KCAL

    hills = read_hills(path)
    with h5py.File(path, "r") as f:
        cv = f["cv"][()]
        t_frames = f["time"][()]
        length_ps = float(t_frames[-1]) if len(t_frames) else 0.0
    W = cv.shape[1]
    intact = np.ones(cv.shape, bool) if intact is None else np.asarray(intact, bool)
    if intact.shape != cv.shape:
        raise ValueError(f"intact mask {intact.shape} does not match the frames {cv.shape}")
    n_ok = intact.sum(axis=0)                  # cumulative mask: the first n_ok frames count
    t_ok = np.array([t_frames[k - 1] if k else -np.inf for k in n_ok])
    ht = np.asarray(hills["time"])
    hills = hills_until(hills, t_ok)
    cv_ok = np.where(intact, cv, np.nan)
    T = hills["temperature_K"]
    g = angle_grid(n_grid)
    F = free_energy(hills["centre"], hills["height"], hills["sigma"], hills["bias_factor"], g)
    per = barrier(F, g, minimum_region, transition_region)
    x = crossed(cv_ok, transition_region, other_region)
    whole = intact[-1] if len(intact) else np.zeros(W, bool)
    usable = whole & x
    lb = no_crossing_lower_bound(hills, g, minimum_region, transition_region)
    t_cross = first_crossing_ps(cv_ok, t_frames, transition_region, other_region)
    escape = [None if tc is None else float(escape_bias(hills, g, minimum_region, transition_region, tc, w))
              for w, tc in enumerate(t_cross)]
    got = np.array([e for e in escape if e is not None], float)
    out = {"temperature_K": T, "n_walkers": int(W), "n_hills": int(len(ht)), "length_ps": length_ps,
           "intact_ps": [float(t) if np.isfinite(t) else 0.0 for t in t_ok],
           "intact_walkers": whole.tolist(), "n_intact": int(whole.sum()),
           "usable_walkers": usable.tolist(), "n_usable": int(usable.sum()),
           "barrier_per_walker_kJ_mol": per["barrier"].tolist(),
           "crossed": x.tolist(), "n_crossed": int(x.sum()),
           "first_crossing_ps": t_cross,
           "escape_bias_kJ_mol": escape,
           "escape_bias_mean_kJ_mol": float(got.mean()) if len(got) else None,
           "escape_bias_sd_kJ_mol": float(got.std(ddof=1)) if len(got) > 1 else None,
           "lower_bound_kJ_mol": lb.tolist(),
           "lower_bound_if_none_crossed_kJ_mol": None if x.any() else float(lb.max()),
           "grid_rad": g.tolist(),
           "extrema": "max of F over the grid points in the transition region minus min over the grid "
                      "points in the minimum region (grid of n_grid points on [-pi, pi), no interpolation); "
                      "F = -(gamma/(gamma-1)) V, averaged over the usable walkers (intact for the whole "
                      "run and crossed), shifted to min 0"}
    if not usable.any():
        out.update(barrier_kJ_mol=None, barrier_kcal_mol=None, s_ts_rad=None, s_min_rad=None, wait_time_ps=None,
                   convergence=None, F_kJ_mol=None,
                   barrier_note="no walker crossed: the lower bound stands" if not x.any() else
                   f"{int(x.sum())} walker(s) crossed but none kept its molecule intact for the whole run "
                   f"({int(whole.sum())} of {W} intact): no barrier")
        return out
    Fm = F[:, usable].mean(axis=1)
    Fm = Fm - Fm.min()
    mean = barrier(Fm, g, minimum_region, transition_region)
    hu = dict(hills, centre=hills["centre"][:, usable], height=hills["height"][:, usable])
    conv = barrier_vs_time(hu, g, minimum_region, transition_region, times)
    b = float(mean["barrier"])
    out.update(barrier_kJ_mol=b, barrier_kcal_mol=b * KJ_TO_KCAL, s_ts_rad=float(mean["s_ts"]),
               s_min_rad=float(mean["s_min"]), wait_time_ps=float(eyring_wait_time_ps(b, T)),
               convergence={"time_ps": conv["times"].tolist(), "barrier_kJ_mol": conv["barrier_mean"].tolist()},
               F_kJ_mol=Fm.tolist(), barrier_note=f"from {int(usable.sum())} of {W} walkers (intact and crossed)")
    return out
