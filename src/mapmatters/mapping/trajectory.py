"""Map a whole GROMACS trajectory (.tpr + .trr with forces) to a CG dataset, chunk by chunk.

GROMACS files are read through MDAnalysis' public API, which works in Angstrom; this is the
edge where we convert back to GROMACS units (positions and box / 10, forces x 10).
"""
from __future__ import annotations

import sys
import time as _time

import numpy as np

from ..cgdata import CGWriter, topology_from_cgmap
from ..errors import InputError
from ..geometry import make_whole_along, spanning_tree_edges
from ..io import atomic_path, open_universe
from ..units import NM_TO_ANGSTROM as ANGSTROM_PER_NM
from .engine import CGMap, build_cgmap, map_forces, map_positions
from .spec import MappingSpec


def topology_arrays(u) -> dict:
    """Per-atom names, masses, molecule numbers, molecule types and residue indices from a .tpr
    Universe."""
    a = u.atoms
    return {"names": a.names, "masses": a.masses, "molnums": a.molnums, "moltypes": a.moltypes,
            "resindices": a.resindices}


class _Whole:
    """Makes the mapped molecules whole along their chemical bonds (free-space data): each atom
    is put at the minimum image of its parent on a spanning tree of the molecule's bonds, so
    molecules longer than half the box come out whole too."""

    def __init__(self, u, cg: CGMap):
        mol_atoms = np.unique(cg.atom_index)
        self.atoms = np.flatnonzero(np.isin(u.atoms.molnums, u.atoms.molnums[mol_atoms]))
        pos = {int(a): k for k, a in enumerate(self.atoms)}
        bonds = np.array([(pos[int(i)], pos[int(j)]) for i, j in u.bonds.indices
                          if int(i) in pos and int(j) in pos], dtype=np.int64).reshape(-1, 2)
        self.edges = spanning_tree_edges(len(self.atoms), bonds, forest=True)

    def __call__(self, x: np.ndarray, box: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=np.float64, copy=True)
        x[:, self.atoms] = make_whole_along(x[:, self.atoms], box, self.edges)
        return x


def map_trajectory(tpr: str, trr: str, spec: MappingSpec, *, system: dict, out: str,
                   chunk_frames: int = 500, source: str = "<config>", stride: int = 1,
                   log=sys.stderr) -> dict:
    """Map every ``stride``-th frame of ``trr`` with ``spec`` and write the CG dataset ``out``.

    ``system`` is the loaded system YAML: its molecule type is mapped, and its kind decides
    whether the CG data are periodic (liquids) or free space (a solvated molecule: solvent
    dropped, molecules made whole along their bonds, no box).
    Returns statistics: frame count, time range and the force-sum check (per molecule and
    frame, the summed CG forces minus the summed forces of the atoms the mapping keeps).
    The output appears only when the whole trajectory has been mapped.
    """
    u = open_universe(tpr, trr)
    molecule_type = system["molecule"]["name"]
    cg = build_cgmap(spec, **topology_arrays(u), molecule_type=molecule_type, topology=str(tpr),
                     source=source)
    top = topology_from_cgmap(cg)
    periodic = bool(system.get("periodic", True))
    if u.dimensions is None and periodic:
        raise InputError("the trajectory has no box, but the system is periodic.", file=str(trr))
    whole = None if periodic else _Whole(u, cg)
    n_frames_total = len(u.trajectory)
    attrs = {"system": system["name"], "mapping": spec.name, "n_molecules": cg.n_molecules,
             "beads_per_molecule": spec.n_beads, "observable_kind": spec.observable_kind or "",
             "observable_beads": np.asarray(spec.observable_beads, dtype=np.int64),
             "source_tpr": str(tpr), "source_trr": str(trr), "description": spec.description}
    stats = _ForceSumCheck(cg)
    t0 = _time.time()
    done = 0
    with atomic_path(out) as tmp:
        with CGWriter(tmp, top, periodic=periodic, attrs=attrs, chunk_frames=chunk_frames) as w:
            buf = _Buffer()
            for ts in u.trajectory[::stride]:
                if not ts.has_forces:
                    raise InputError(f"frame at t = {ts.time} ps has no forces.", file=str(trr),
                                     fix="write forces with positions: set nstfout = nstxout in the .mdp.")
                if not ts.has_positions:
                    raise InputError(f"frame at t = {ts.time} ps has no positions.", file=str(trr),
                                     fix="write positions with forces: set nstxout = nstfout in the .mdp.")
                box = ts.triclinic_dimensions / ANGSTROM_PER_NM
                buf.add(ts.positions / ANGSTROM_PER_NM, ts.forces * ANGSTROM_PER_NM, box, ts.time,
                        ts.data.get("step", ts.frame))
                if len(buf) >= chunk_frames:
                    done += _flush(buf, cg, w, stats, whole)
                    _progress(log, done, n_frames_total // stride, t0)
            if len(buf):
                done += _flush(buf, cg, w, stats, whole)
                _progress(log, done, n_frames_total // stride, t0)
    if done == 0:
        raise InputError("the trajectory has no frames.", file=str(trr))
    return {"n_frames": done, "n_beads": cg.n_beads, "n_molecules": cg.n_molecules,
            "atoms_per_molecule_mapped": int(len(cg.atom_index) // max(cg.n_molecules, 1)),
            **stats.result()}


class _Buffer:
    def __init__(self):
        self.x, self.f, self.box, self.t, self.step = [], [], [], [], []

    def add(self, x, f, box, t, step):
        self.x.append(np.array(x, dtype=np.float64))
        self.f.append(np.array(f, dtype=np.float64))
        self.box.append(np.array(box, dtype=np.float64))
        self.t.append(float(t))
        self.step.append(int(step))

    def __len__(self):
        return len(self.x)

    def take(self):
        out = (np.stack(self.x), np.stack(self.f), np.stack(self.box), np.array(self.t), np.array(self.step))
        self.__init__()
        return out


def _flush(buf: _Buffer, cg: CGMap, w: CGWriter, stats: "_ForceSumCheck", whole: "_Whole | None") -> int:
    x, f, box, t, step = buf.take()
    if whole is None:        # periodic CG data
        pos = map_positions(cg, x, box)
    else:                    # free space: whole molecules, no box
        pos = map_positions(cg, whole(x, box), None)
        box = np.zeros_like(box)
    frc = map_forces(cg, f)
    stats.update(f, frc)
    w.append(pos.astype(np.float32), frc.astype(np.float32), box.astype(np.float32), t, step)
    return len(x)


class _ForceSumCheck:
    """Per molecule: sum of stored (float32) CG forces vs sum of the mapped atoms' forces."""

    def __init__(self, cg: CGMap):
        self.cg = cg
        self.bead_mol = cg.molecule
        entry_bead = np.repeat(np.arange(cg.n_beads), np.diff(np.append(cg.starts, len(cg.atom_index))))
        self.entry_mol = cg.molecule[entry_bead]
        self.max_abs = 0.0
        self.sum_sq_force = 0.0
        self.n_force = 0

    def update(self, atom_forces: np.ndarray, cg_forces: np.ndarray) -> None:
        nm = self.cg.n_molecules
        fa = atom_forces[:, self.cg.atom_index]                      # (F, K, 3)
        sum_atoms = np.zeros((fa.shape[0], nm, 3))
        np.add.at(sum_atoms, (slice(None), self.entry_mol), fa)
        sum_cg = np.zeros_like(sum_atoms)
        np.add.at(sum_cg, (slice(None), self.bead_mol), cg_forces.astype(np.float32).astype(np.float64))
        self.max_abs = max(self.max_abs, float(np.abs(sum_cg - sum_atoms).max()))
        self.sum_sq_force += float((sum_atoms ** 2).sum())
        self.n_force += sum_atoms.size

    def result(self) -> dict:
        rms = float(np.sqrt(self.sum_sq_force / max(self.n_force, 1)))
        return {"force_sum_max_abs_dev_kJ_mol_nm": self.max_abs,
                "molecule_force_rms_kJ_mol_nm": rms,
                "force_sum_rel_dev": self.max_abs / rms if rms > 0 else 0.0}


def _progress(log, done: int, total: int, t0: float) -> None:
    if log is None:
        return
    dt = max(_time.time() - t0, 1e-9)
    print(f"[map] {done}/{total} frames ({done / dt:.0f} frames/s)", file=log, flush=True)
