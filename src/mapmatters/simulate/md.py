"""CG molecular dynamics in JAX-MD: many independent chains at once, chunked, resumable.

Units: nm, ps, kJ/mol, amu, K. With these, 1 amu nm^2/ps^2 = 1 kJ/mol exactly (to 1e-9), so
masses in amu go straight into jax-md (see :mod:`mapmatters.units`).

Integrators (jax-md 0.2.29):

- NVT: ``jax_md.simulate.nvt_langevin`` (BAOAB). Its ``gamma`` is a friction *rate* in
  1/time: the O step is ``p <- exp(-gamma dt) p + sqrt(kT (1 - exp(-2 gamma dt)) m) xi``, so
  the paper's "friction 100 / ps" is ``gamma=100`` with dt in ps: our ``friction_per_ps``.
- NVE: ``jax_md.simulate.nve`` (velocity Verlet), momenta drawn at ``temperature_K``.

Config names (:data:`MD_DEFAULTS`) are the config file's, units in the name (``temperature_K``,
``dt_ps``, ``friction_per_ps``, as LAMMPS' :class:`mapmatters.classical.lammps.LammpsSettings`);
the loop counts ``steps_per_frame`` and ``n_frames`` are derived from ``frame_every_ps`` and
``length_ps`` by :func:`loop_config`.

Loop structure: ``n_chains`` chains are vmapped; inside one jitted *chunk* a ``lax.scan``
over ``frames_per_chunk`` frames runs a ``lax.fori_loop`` of ``steps_per_frame`` steps
(neighbour-list update + integrator step). After each chunk the overflow flags are checked:
on overflow the chunk is thrown away, the list is re-allocated with more room at the last
good state and the chunk is redone, so no run is lost. Completed chunks are appended to an
HDF5 file and the integrator state is written (atomically) beside it, so a killed run resumes
from its last completed chunk and gives the same trajectory as an uninterrupted one.

Output (``out.h5``)::

    /positions   float32 (F, C, N, 3)  wrapped into the box (periodic)
    /kT          float32 (F, C)        kinetic k_B T = sum p^2/m / (3N), kJ/mol
    /epot        float32 (F, C)        potential energy, kJ/mol
    /ekin        float32 (F, C)        kinetic energy, kJ/mol
    /time        float64 (F,)          ps
    attrs: config (JSON), seeds, start_frames, n_frames_done, box, masses, species, speed

Stability is not decided here: it is an analysis chosen per system
(:mod:`mapmatters.analysis.stability`), the same for every engine. The loop only keeps a
blow-up guard: a chain whose kinetic k_B T exceeds ``blowup_kT`` (50 kJ/mol, ten times the bulk
criterion) or is not finite is "blown up" from that frame; its neighbour-list overflows are
ignored (nothing it does later is analysed) and :func:`blown_up` reports the frame. A caller
may also pass the system's stability criterion as ``stop_rule`` (asked after every chunk which
chains have left it): such a chain counts as done in the same way, since the analyses drop its
frames from the first unstable one on. Once every chain has blown up or left the criterion the
run stops: its remaining frames are written as NaN (attribute ``n_frames_simulated`` says how
many were run), so the file keeps its planned length.

Speed: each chunk shape is compiled before its first call, outside the clock, so every chunk
that is kept counts towards ``steps_per_s`` (a run that stops after its first chunk has a speed
too). Chunks thrown away after an overflow do not count.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..config import with_defaults
from ..geometry import jax_space
from ..units import KB_KJ_MOL_K

MD_DEFAULTS: dict[str, Any] = {
    "ensemble": "nvt",          # "nvt" (Langevin) or "nve" (velocity Verlet)
    "temperature_K": 300.0,
    "dt_ps": 0.002,
    "friction_per_ps": 100.0,   # Langevin friction rate
    "steps_per_frame": 250,     # 0.5 ps at 2 fs (derived: see loop_config)
    "n_frames": 2000,           # frames per chain, 1000 ps (derived: see loop_config)
    "frames_per_chunk": 20,     # frames between disk writes / overflow checks
    # neighbour slots = margin * edges at (re)allocation, for the skin list and for the list
    # cut to r_cut that the model sees: the model's work grows with the slots, padding included
    # (hexane, 1.5 -> 1.1: 1.47x more MD steps/s); an overflow redoes the chunk with more room
    "capacity_margin": 1.5,
    "skin": 0.0,                # nm; MLP runs build their System with it (mlp.simulation)
    "blowup_kT": 50.0,          # kJ/mol: blow-up guard (not the stability criterion)
    "max_realloc": 20,
}


def md_config(config: dict | None = None, **overrides) -> dict:
    cfg = with_defaults(MD_DEFAULTS, config, overrides, "MD config")
    if cfg["ensemble"] not in ("nvt", "nve"):
        raise ValueError("ensemble must be 'nvt' or 'nve'")
    if not cfg["capacity_margin"] >= 1.0:
        raise ValueError(f"capacity_margin {cfg['capacity_margin']} must be at least 1 (neighbour slots "
                         "per edge at allocation)")
    return cfg


def loop_config(md: dict) -> dict:
    """The engine config of a config MD block (``classical|mlp.<system>.md``: ``length_ps``,
    ``dt_ps``, ``frame_every_ps``, ``temperature_K``, ``friction_per_ps``, optional
    ``frames_per_chunk``, ``skin`` and ``capacity_margin``; ``n_runs`` is not the engine's): the
    same names, plus the loop counts
    ``steps_per_frame = frame_every_ps / dt_ps`` and ``n_frames = length_ps / frame_every_ps``,
    which must come out whole. The one place these counts are derived."""
    spf = md["frame_every_ps"] / md["dt_ps"]
    n_frames = md["length_ps"] / md["frame_every_ps"]
    if abs(spf - round(spf)) > 1e-6 or abs(n_frames - round(n_frames)) > 1e-6:
        raise ValueError(f"MD config: frame_every_ps ({md['frame_every_ps']}) must be a multiple of dt_ps "
                         f"({md['dt_ps']}) and divide length_ps ({md['length_ps']})")
    return md_config({"ensemble": "nvt", "temperature_K": float(md["temperature_K"]),
                      "dt_ps": float(md["dt_ps"]), "friction_per_ps": float(md["friction_per_ps"]),
                      "steps_per_frame": int(round(spf)), "n_frames": int(round(n_frames)),
                      "frames_per_chunk": int(md.get("frames_per_chunk", MD_DEFAULTS["frames_per_chunk"])),
                      "skin": float(md.get("skin", MD_DEFAULTS["skin"])),
                      "capacity_margin": float(md.get("capacity_margin", MD_DEFAULTS["capacity_margin"]))})


def frame_every_ps(cfg: dict) -> float:
    """Time between saved frames (ps) of an engine config."""
    return cfg["dt_ps"] * cfg["steps_per_frame"]


@dataclass
class System:
    """What the integrator needs: an energy function on a jax-md neighbour list, and more."""

    energy_fn: Callable            # energy_fn(R, neighbor=nbrs) -> kJ/mol
    neighbor_fn: Any               # jax-md sparse (or dense) neighbour-list function
    masses: np.ndarray             # (N,) amu
    box: np.ndarray | None         # (3,) orthorhombic side, nm; None = free space
    skin: float = 0.0              # nm; the neighbor_fn's dr_threshold (0: rebuilt every step)
    r_cut: float | None = None     # nm; with a skin, the list the energy sees is cut here


def system_from_model(model, params, masses, capacity_multiplier: float = 1.0,
                      skin: float = 0.0) -> System:
    """A :class:`System` from a :class:`mapmatters.mlp.model.EnergyModel` and its params."""
    import jax

    params = jax.tree.map(jax.numpy.asarray, params)
    return System(energy_fn=model.energy_fn_template(params),
                  neighbor_fn=model.neighbor_fn(capacity_multiplier=capacity_multiplier, skin=skin),
                  masses=np.asarray(masses, np.float64), box=model.box, skin=float(skin),
                  r_cut=model.r_cut)


def _shift(box):
    """jax-md shift function: free space for ``box`` None, else the periodic box's."""
    return jax_space(box)[1]


def _compacts(system: System) -> bool:
    """Whether the loop cuts the skin list down to ``r_cut`` before the energy sees it."""
    return bool(system.skin and system.skin > 0 and system.r_cut)


def _edges_needed(system: System, R, within_cut: bool = False) -> int:
    """Edges of each chain at positions R (C, N, 3); max over chains that are finite.
    ``within_cut``: count only pairs closer than ``system.r_cut`` (the compacted list)."""
    counts = []
    for r in np.asarray(R):
        if not np.all(np.isfinite(r)):
            continue
        nb = system.neighbor_fn.allocate(r)
        idx = np.asarray(nb.idx)
        idx = idx[:, idx[0] < r.shape[0]]
        if within_cut:
            d = r[idx[0]] - r[idx[1]]
            if system.box is not None:
                side = np.asarray(system.box, np.float32)
                d = d - side * np.round(d / side)
            idx = idx[:, np.sum(d * d, axis=-1) < system.r_cut ** 2]
        counts.append(idx.shape[1])
    return max(counts) if counts else 1


def _alloc_batched(system: System, R, capacity: int):
    """A vmapped neighbour list (one per chain) with ``capacity`` edge slots."""
    import jax
    import jax.numpy as jnp

    R = jnp.asarray(R)
    tmpl = system.neighbor_fn.allocate(R[0])
    cap, n = int(capacity), R.shape[1]
    idx = tmpl.idx[:, :cap]
    idx = jnp.concatenate([idx, jnp.full((2, cap - idx.shape[1]), n, idx.dtype)], axis=1)
    tmpl = replace(tmpl, max_occupancy=cap, idx=idx)
    if not system.skin:
        return jax.vmap(lambda r: tmpl.update(r))(R)
    # with a skin, jax-md's update keeps a list whose beads moved less than skin/2: a
    # reference position one skin away (bead 0) makes every chain's list be built at r
    kick = jnp.zeros((n, 3), R.dtype).at[0, 0].set(system.skin)
    return jax.vmap(lambda r: replace(tmpl, reference_position=r + kick).update(r))(R)


class Simulation:
    """Vmapped chains with chunked, resumable output. Use :func:`run`."""

    def __init__(self, system: System, cfg: dict):
        import jax
        import jax.numpy as jnp
        from jax_md import simulate

        self.system = system
        self.cfg = cfg
        self.kT = KB_KJ_MOL_K * cfg["temperature_K"]
        shift = _shift(system.box)
        efn = system.energy_fn
        mass = jnp.asarray(system.masses, jnp.float32)[:, None]
        self.mass = mass
        if cfg["ensemble"] == "nvt":
            init, apply = simulate.nvt_langevin(efn, shift, cfg["dt_ps"], self.kT,
                                                 gamma=cfg["friction_per_ps"])
            self._init = lambda key, R, nbrs: init(key, R, mass=mass, neighbor=nbrs)
        else:
            init, apply = simulate.nve(efn, shift, cfg["dt_ps"])
            self._init = lambda key, R, nbrs: init(key, R, self.kT, mass=mass, neighbor=nbrs)
        n = len(system.masses)
        spf = int(cfg["steps_per_frame"])
        fpc = int(cfg["frames_per_chunk"])
        # the chains are vmapped step by step (not the whole chunk), so that the skin test
        # below can skip the rebuild for all chains at once
        v_apply = jax.vmap(lambda s, nb: apply(s, neighbor=nb))
        v_update = jax.vmap(lambda r, nb: nb.update(r))
        v_efn = jax.vmap(lambda r, nb: efn(r, neighbor=nb))
        skin = float(getattr(system, "skin", 0.0) or 0.0)
        if skin > 0:
            # jax-md's update with a skin keeps the list until a bead has moved skin/2 since
            # it was built, through a lax.cond; under vmap that cond becomes a select and the
            # list is rebuilt every step anyway. The same test is made here over all chains
            # (one cond outside the vmap): when no chain needs a new list the rebuild is
            # skipped; otherwise jax-md's own per-chain update runs (its select keeps the
            # lists of the chains that have not moved enough). The model masks pairs beyond
            # its cut-off (mapmatters.mlp.model._graph), so energies are those without skin.
            disp = jax_space(system.box)[0]
            thr = (skin / 2.0) ** 2

            def moved(r, ref):
                d = jax.vmap(disp)(r, ref)
                return jnp.any(jnp.sum(d * d, axis=-1) > thr)

            def refresh(R, nbrs):
                need = jnp.any(jax.vmap(moved)(R, nbrs.reference_position))
                return jax.lax.cond(need, lambda nb: v_update(R, nb), lambda nb: nb, nbrs)
        else:
            refresh = v_update

        def for_energy(R, nbrs, cap_cut):
            """The list the energy sees, and its overflow flags (C, 2): the list itself, and the
            list cut to r_cut. With a skin and ``r_cut`` the pairs closer than r_cut are moved
            (in order, so still sorted by sender) into ``cap_cut`` slots: the model then does
            the work of a list without skin."""
            if not cap_cut:
                o = nbrs.did_buffer_overflow != 0
                return nbrs, jnp.stack([o, jnp.zeros_like(o)], axis=-1)
            disp = jax_space(system.box)[0]
            rc2 = float(system.r_cut) ** 2

            def one(r, nb):
                idx = nb.idx
                real = idx[0] < n
                a, b = jnp.where(real, idx[0], 0), jnp.where(real, idx[1], 0)
                d = jax.vmap(disp)(r[a], r[b])
                keep = real & (jnp.sum(d * d, axis=-1) < rc2)
                slot = jnp.where(keep, jnp.cumsum(keep) - 1, cap_cut)
                cut = jnp.full((2, cap_cut), n, idx.dtype).at[:, slot].set(idx, mode="drop")
                return replace(nb, idx=cut), jnp.stack([nb.did_buffer_overflow != 0, keep.sum() > cap_cut])
            return jax.vmap(one)(R, nbrs)

        def chunk(state, nbrs, cap_cut):
            def one_frame(carry, _):
                def body(i, c):
                    state, nbrs, ovf = c
                    nbrs = refresh(state.position, nbrs)
                    nb_e, o = for_energy(state.position, nbrs, cap_cut)
                    state = v_apply(state, nb_e)
                    return state, nbrs, ovf | o
                state, nbrs, ovf = jax.lax.fori_loop(0, spf, body, carry)
                p = state.momentum
                ekin = 0.5 * jnp.sum(p * p / mass, axis=(-2, -1))
                nbrs_now = refresh(state.position, nbrs)
                nb_e, o = for_energy(state.position, nbrs_now, cap_cut)
                epot = v_efn(state.position, nb_e)
                rec = {"positions": state.position, "kT": 2.0 * ekin / (3 * n),
                       "ekin": ekin, "epot": epot}
                return (state, nbrs, ovf | o), rec

            ovf = jnp.zeros(state.position.shape[:1] + (2,), bool)
            (state, nbrs, ovf), rec = jax.lax.scan(one_frame, (state, nbrs, ovf), None, length=fpc)
            return state, nbrs, ovf, jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), rec)

        self._chunk = jax.jit(chunk, static_argnums=2)
        self._init_v = jax.jit(jax.vmap(self._init))
        self._epot0 = jax.jit(jax.vmap(lambda R, nb: efn(R, neighbor=nb.update(R))))


def _state_to_np(state) -> dict:
    return {k: np.asarray(getattr(state, k)) for k in state.__dataclass_fields__}


def _state_from_np(template, d):
    import jax.numpy as jnp

    return template.set(**{k: jnp.asarray(v) for k, v in d.items()})


def run(system: System, R0, out_path, config: dict | None = None, seeds=None, *,
        resume: bool = True, log: Callable | None = None, start_frames=None,
        capacity: int | None = None, on_chunk_end: Callable[[int], None] | None = None,
        stop_rule: Callable[[dict], np.ndarray] | None = None) -> dict:
    """Run ``len(R0)`` chains from positions ``R0`` (C, N, 3) and write ``out_path`` (HDF5).

    ``seeds`` (C,) ints give each chain its own random stream (momenta and Langevin noise).
    Resumes from ``out_path`` + ``.state.npz`` when present. ``capacity`` forces the initial
    neighbour-list size (tests use a too-small one to exercise overflow recovery).
    ``stop_rule(rec)``: called with each kept chunk's ``kT`` (C, F) and ``positions`` (C, F, N, 3);
    returns (C,) bool, the chains that have left the system's stability criterion in it (e.g.
    :func:`mapmatters.analysis.stability.chains_left`). Their later frames are not analysed, so
    they stop counting, and the run stops once no chain counts.
    Returns a summary: frames, speed (steps/s, ns/day), re-allocations, blow-ups, and per chain
    the frame after which ``stop_rule`` found it unstable (``left_stability_frame``, None if never).
    """
    import h5py
    import jax
    import jax.numpy as jnp

    cfg = md_config(config)
    out_path = Path(out_path)
    state_path = Path(str(out_path) + ".state.npz")
    say = log or (lambda m: print(m, flush=True))
    R0 = np.asarray(R0, np.float32)
    C, N = R0.shape[:2]
    seeds = np.arange(C) if seeds is None else np.asarray(seeds, np.int64)
    if len(seeds) != C:
        raise ValueError("need one seed per chain")
    # reuse the compiled loop when the same System runs again with the same config
    cache = system.__dict__.setdefault("_sim_cache", {})
    key = json.dumps(cfg, sort_keys=True)
    sim = cache.get(key) or cache.setdefault(key, Simulation(system, cfg))
    fpc = int(cfg["frames_per_chunk"])
    every_ps = frame_every_ps(cfg)

    done = 0
    left_at = None
    if resume and state_path.exists() and out_path.exists():
        ck = dict(np.load(state_path, allow_pickle=False))
        if json.loads(str(ck.pop("config"))) != cfg:
            raise ValueError(f"{state_path}: written with another MD config; delete it to restart")
        done = int(ck.pop("n_frames_done"))
        left_at = ck.pop("left_stability_frame", None)
        capacity = int(ck.pop("capacity"))
        cap_cut = int(ck.pop("capacity_cut", 0))
        nbrs = _alloc_batched(system, ck["position"], capacity)
        tmpl = sim._init_v(jax.vmap(jax.random.PRNGKey)(jnp.asarray(seeds)),
                           jnp.asarray(ck["position"]), nbrs)
        state = _state_from_np(tmpl, ck)
        f = h5py.File(out_path, "r+")
        for name in ("positions", "kT", "epot", "ekin", "time"):
            f[name].resize(done, axis=0)  # drop frames of a chunk not covered by the state
        say(f"[md] resume {out_path} at frame {done}/{cfg['n_frames']}")
    else:
        if capacity is None:
            capacity = int(np.ceil(_edges_needed(system, R0) * cfg["capacity_margin"]))
        cap_cut = int(np.ceil(_edges_needed(system, R0, True) * cfg["capacity_margin"])) \
            if _compacts(system) else 0
        nbrs = _alloc_batched(system, R0, capacity)
        keys = jax.vmap(jax.random.PRNGKey)(jnp.asarray(seeds))
        state = sim._init_v(keys, jnp.asarray(R0), nbrs)
        tmp = Path(str(out_path) + ".tmp")
        f = h5py.File(tmp, "w")
        ch = max(1, min(fpc, 64))
        f.create_dataset("positions", (0, C, N, 3), maxshape=(None, C, N, 3), dtype="f4",
                         chunks=(ch, C, N, 3))
        for name in ("kT", "epot", "ekin"):
            f.create_dataset(name, (0, C), maxshape=(None, C), dtype="f4", chunks=(ch, C))
        f.create_dataset("time", (0,), maxshape=(None,), dtype="f8", chunks=(ch,))
        f.attrs["config"] = json.dumps(cfg, sort_keys=True)
        f.attrs["seeds"] = seeds
        f.attrs["start_frames"] = np.asarray(start_frames if start_frames is not None else [], int)
        f.attrs["masses"] = np.asarray(system.masses)
        f.attrs["box"] = np.asarray([] if system.box is None else system.box, float)
        f.attrs["units"] = "nm, ps, kJ/mol, amu"
        f.attrs["n_frames_done"] = 0
        f.close()
        os.replace(tmp, out_path)
        f = h5py.File(out_path, "r+")

    if left_at is None:
        left_at = np.full(C, -1, np.int64)   # per chain: frame after which stop_rule found it unstable
    realloc = 0
    timings = []  # (steps, seconds) of every kept chunk; compilation happens before the clock
    compiled = set()  # (capacity, cap_cut) of the chunk shapes compiled so far
    # chains already blown up (kinetic kT above the guard): their overflows are ignored,
    # their frames are dropped by the stability analysis anyway
    kT_done = f["kT"][()]
    dead = (~np.isfinite(kT_done) | (kT_done > cfg["blowup_kT"])).any(axis=0) if done else \
        np.zeros(C, bool)
    dead |= left_at >= 0
    retried = False
    try:
        while done < cfg["n_frames"]:
            if dead.all():
                # every chain has blown up or left the stability criterion: nothing it would
                # do from here is analysed
                _write_not_simulated(f, done, cfg["n_frames"], every_ps)
                say(f"[md] every chain blown up or unstable by frame {done}: frames "
                    f"{done + 1}-{cfg['n_frames']} written as not simulated (NaN)")
                done = cfg["n_frames"]
                break
            if (capacity, cap_cut) not in compiled:
                # compile outside the timed call, so that every chunk counts towards the speed
                sim._chunk.lower(state, nbrs, cap_cut).compile()
                compiled.add((capacity, cap_cut))
            t0 = time.perf_counter()
            new_state, new_nbrs, ovf, rec = sim._chunk(state, nbrs, cap_cut)
            rec = jax.tree.map(np.asarray, rec)   # (C, fpc, ...)
            ovf = np.asarray(ovf)
            dt = time.perf_counter() - t0
            blew = ~(np.all(np.isfinite(rec["kT"]), axis=1) &
                     np.all(rec["kT"] <= cfg["blowup_kT"], axis=1))
            # an overflow in a live chain means lost edges: redo the chunk with more room
            # (once more even if the chain then blew up: the overflow may be the cause)
            # (ovf: per chain, the list and the list cut to r_cut; only the one that overflowed
            # grows, since the model works on every slot of the cut list)
            need = ovf.any(axis=1) & ~dead & (~blew | (not retried))   # (C,) bool
            if np.any(need):
                retried = True
                realloc += 1
                if realloc > cfg["max_realloc"]:
                    raise RuntimeError("neighbour list keeps overflowing; giving up")
                pos = np.asarray(state.position)
                live = pos[~dead] if np.any(~dead) else pos
                grow = ovf[need].any(axis=0)
                if grow[0]:
                    capacity = max(int(np.ceil(_edges_needed(system, live) * cfg["capacity_margin"])),
                                   int(np.ceil(capacity * 1.25)))
                if grow[1]:
                    cap_cut = max(int(np.ceil(_edges_needed(system, live, True)
                                              * cfg["capacity_margin"])),
                                  int(np.ceil(cap_cut * 1.25)))
                say(f"[md] neighbour list overflow in chunk at frame {done} "
                    f"(chains {np.flatnonzero(need).tolist()}): capacity -> {capacity}"
                    + (f", within r_cut -> {cap_cut}" if cap_cut else "") + ", redo chunk")
                nbrs = _alloc_batched(system, pos, capacity)
                continue
            retried = False
            dead |= blew
            timings.append((fpc * cfg["steps_per_frame"], dt))
            take = min(fpc, cfg["n_frames"] - done)
            n0 = done
            for name in ("positions", "kT", "epot", "ekin"):
                arr = np.swapaxes(rec[name], 0, 1)[:take]  # (take, C, ...)
                f[name].resize(n0 + take, axis=0)
                f[name][n0:] = arr
            f["time"].resize(n0 + take, axis=0)
            f["time"][n0:] = (np.arange(n0, n0 + take) + 1) * every_ps
            f.attrs["n_frames_done"] = n0 + take
            f.flush()
            state, nbrs = new_state, new_nbrs
            done = n0 + take
            if stop_rule is not None:
                left = np.asarray(stop_rule({"kT": rec["kT"][:, :take],
                                             "positions": rec["positions"][:, :take]}), bool)
                left_at[left & (left_at < 0)] = done
                dead |= left
            ck = _state_to_np(state)
            ck.update(n_frames_done=done, capacity=capacity, capacity_cut=cap_cut,
                      left_stability_frame=left_at, config=json.dumps(cfg, sort_keys=True))
            tmp = Path(str(state_path) + ".tmp.npz")
            np.savez(tmp, **ck)
            os.replace(tmp, state_path)
            kT = rec["kT"][:, :take]
            say(f"[md] frame {done}/{cfg['n_frames']} ({done * every_ps:.1f} ps) "
                f"kT mean {np.nanmean(kT):.3f} max {np.nanmax(kT):.3f} kJ/mol, "
                f"{dt:.1f} s/chunk")
            if on_chunk_end is not None:
                on_chunk_end(done)
        speed = _speed(timings, cfg["dt_ps"], C)
        f.attrs["speed"] = json.dumps(speed)
        f.attrs["neighbor_reallocations"] = realloc
        kT_all = f["kT"][()]
        n_sim = int(f.attrs.get("n_frames_simulated", done))
    finally:
        f.close()
    return {"n_frames": done, "n_frames_simulated": n_sim, "n_chains": C, "capacity": capacity, "capacity_cut": cap_cut,
            "reallocations": realloc,
            "speed": speed, "blowup": blown_up(kT_all, every_ps, cfg["blowup_kT"]),
            "left_stability_frame": [None if k < 0 else int(k) for k in left_at],
            "mean_kT": float(np.nanmean(kT_all)) if len(kT_all) else float("nan"),
            "target_kT": sim.kT}


def _write_not_simulated(f, done: int, n_frames: int, every_ps: float) -> None:
    """Frames ``done`` .. ``n_frames`` - 1 of an open trajectory file as not simulated: NaN
    positions and energies (every analysis treats them as unstable), their times as planned."""
    for name in ("positions", "kT", "epot", "ekin"):
        f[name].resize(n_frames, axis=0)
        f[name][done:] = np.nan
    f["time"].resize(n_frames, axis=0)
    f["time"][done:] = (np.arange(done, n_frames) + 1) * every_ps
    f.attrs["n_frames_done"] = n_frames
    f.attrs["n_frames_simulated"] = done
    f.flush()


def _speed(timings, dt_ps, n_chains) -> dict:
    if not timings:
        return {"steps_per_s": None, "ns_per_day": None, "ns_per_day_all_chains": None,
                "note": "no chunk ran (the file was already complete)"}
    steps = sum(s for s, _ in timings)
    secs = sum(t for _, t in timings)
    sps = steps / secs
    nsday = sps * dt_ps * 86400.0 / 1000.0
    return {"steps_per_s": sps, "ns_per_day": nsday, "ns_per_day_all_chains": nsday * n_chains,
            "timed_steps": steps, "timed_seconds": secs}


def blown_up(kT, frame_ps: float, threshold: float = 50.0) -> dict:
    """The engine's blow-up guard per chain: first frame with kinetic k_B T > ``threshold`` or not
    finite (``n_frames`` when none) and its time. Not the stability criterion of the paper
    (:mod:`mapmatters.analysis.stability` decides that, per system)."""
    kT = np.asarray(kT)
    if kT.ndim == 1:
        kT = kT[:, None]
    F, C = kT.shape
    bad = ~np.isfinite(kT) | (kT > threshold)
    first = np.where(bad.any(axis=0), bad.argmax(axis=0), F)
    return {"first_blown_up_frame": first.tolist(), "blown_up_ps": (first * frame_ps).tolist(),
            "n_blown_up": int(np.sum(first < F)), "threshold_kT": threshold}
