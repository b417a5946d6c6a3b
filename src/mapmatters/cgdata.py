"""The CG dataset: one HDF5 file per (system, mapping), read by every later stage.

Layout (format ``mapmatters-cg/1``)::

    /positions   float32 (F, N, 3)  bead positions, nm, wrapped into the box
    /forces      float32 (F, N, 3)  mapped forces, kJ/mol/nm
    /box         float32 (F, 3, 3)  box vectors as rows, nm (GROMACS convention)
    /time        float64 (F,)       ps
    /step        int64   (F,)       MD step of the atomistic frame
    /topology/species       int32 (N,)   integer species per bead
    /topology/species_names str   (S,)   label of each species id
    /topology/bead_names    str   (N,)   bead name (from the mapping) per bead
    /topology/masses        float64 (N,) amu
    /topology/molecule      int32 (N,)   molecule index per bead
    /topology/bonds         int64 (B, 2) bonded bead pairs (global indices)
    /topology/angles        int64 (A, 3) bonded triples derived from the bonds
    /topology/dihedrals     int64 (D, 4) bonded quadruples derived from the bonds
    /topology/exclusions    int64 (E, 2) pairs joined by a bond, angle or dihedral

File attributes: format, system, mapping, units, periodic, n_molecules, beads_per_molecule,
observable_kind, observable_beads (within a molecule), and the source files.
Frames are appended in chunks, so a 500,000-frame reference never sits in memory.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import h5py
import numpy as np

FORMAT = "mapmatters-cg/1"
UNITS = {"positions": "nm", "forces": "kJ/mol/nm", "box": "nm", "time": "ps", "masses": "amu"}


@dataclass
class Topology:
    """Per-bead data of a CG system."""

    species: np.ndarray
    species_names: list[str]
    bead_names: np.ndarray
    masses: np.ndarray
    molecule: np.ndarray
    bonds: np.ndarray
    angles: np.ndarray
    dihedrals: np.ndarray
    exclusions: np.ndarray

    @property
    def n_beads(self) -> int:
        return len(self.species)


def topology_from_cgmap(cg) -> Topology:
    """Per-bead topology of a :class:`mapmatters.mapping.CGMap`, replicated per molecule."""
    spec = cg.spec
    nb = spec.n_beads
    offsets = np.arange(cg.n_molecules) * nb

    def replicate(local, width):
        local = np.asarray(local, dtype=np.int64).reshape(-1, width)
        if len(local) == 0:
            return np.zeros((0, width), dtype=np.int64)
        return (local[None, :, :] + offsets[:, None, None]).reshape(-1, width)

    return Topology(species=cg.species, species_names=list(spec.species_names),
                    bead_names=cg.bead_names, masses=cg.masses, molecule=cg.molecule,
                    bonds=replicate(spec.bonds, 2), angles=replicate(spec.angles(), 3),
                    dihedrals=replicate(spec.dihedrals(), 4),
                    exclusions=replicate(sorted(spec.excluded_pairs()), 2))


class CGWriter:
    """Append-only writer; use as a context manager on a temporary path."""

    def __init__(self, path: str | os.PathLike, topology: Topology, *, periodic: bool, attrs: dict,
                 chunk_frames: int = 256, forces: bool = True):
        self.f = h5py.File(path, "w")
        n = topology.n_beads
        self.n = n
        cf = max(1, min(chunk_frames, 1024))
        self.f.attrs["format"] = FORMAT
        self.f.attrs["periodic"] = bool(periodic)
        for k, v in UNITS.items():
            self.f.attrs[f"unit_{k}"] = v
        for k, v in attrs.items():
            self.f.attrs[k] = v
        self.positions = self.f.create_dataset("positions", (0, n, 3), maxshape=(None, n, 3),
                                               dtype="f4", chunks=(cf, n, 3))
        # CG trajectories from simulations carry no forces: then there is no /forces dataset
        self.forces = (self.f.create_dataset("forces", (0, n, 3), maxshape=(None, n, 3),
                                             dtype="f4", chunks=(cf, n, 3)) if forces else None)
        self.box = self.f.create_dataset("box", (0, 3, 3), maxshape=(None, 3, 3), dtype="f4",
                                         chunks=(cf, 3, 3))
        self.time = self.f.create_dataset("time", (0,), maxshape=(None,), dtype="f8", chunks=(cf,))
        self.step = self.f.create_dataset("step", (0,), maxshape=(None,), dtype="i8", chunks=(cf,))
        t = self.f.create_group("topology")
        t["species"] = np.asarray(topology.species, dtype=np.int32)
        t["species_names"] = np.asarray(topology.species_names, dtype=h5py.string_dtype())
        t["bead_names"] = np.asarray(topology.bead_names, dtype=h5py.string_dtype())
        t["masses"] = np.asarray(topology.masses, dtype=np.float64)
        t["molecule"] = np.asarray(topology.molecule, dtype=np.int32)
        for name in ("bonds", "angles", "dihedrals", "exclusions"):
            t[name] = np.asarray(getattr(topology, name), dtype=np.int64)

    def append(self, positions, forces, box, time, step) -> None:
        k = len(positions)
        n0 = self.positions.shape[0]
        for ds in (self.positions, self.forces, self.box, self.time, self.step):
            if ds is not None:
                ds.resize(n0 + k, axis=0)
        self.positions[n0:] = positions
        if self.forces is not None:
            self.forces[n0:] = forces
        self.box[n0:] = box
        self.time[n0:] = time
        self.step[n0:] = step

    def close(self) -> None:
        self.f.attrs["n_frames"] = self.positions.shape[0]
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def topology_of(path: str | os.PathLike) -> tuple[Topology, dict]:
    """Topology and attributes of an existing CG dataset."""
    with CGDataset(path) as ds:
        return ds.topology, ds.attrs


def trajectory_to_dataset(traj: str | os.PathLike, template: str | os.PathLike, out: str | os.PathLike, *,
                          source: str, stop_ps: float | None = None, chunk_frames: int = 500) -> int:
    """A CG trajectory (any format mdtraj reads, e.g. .xtc, nm) as a CG dataset without forces.

    Beads must be in the order of the ``template`` dataset (the mapped reference), whose
    topology and attributes are copied; frames at or after ``stop_ps`` (the stability time)
    are dropped; positions are wrapped into the box. Returns the number of frames written.
    """
    import mdtraj

    from .geometry import wrap
    from .io import atomic_path

    top, template_attrs = topology_of(template)
    periodic = bool(template_attrs.get("periodic", True))
    attrs = {k: v for k, v in template_attrs.items()
             if not k.startswith("unit_") and k not in ("format", "periodic", "n_frames")}
    attrs["source_trajectory"] = str(traj)
    attrs["source"] = source
    md_top = mdtraj.Topology()
    chain = md_top.add_chain()
    for _ in range(top.n_beads):
        md_top.add_atom("CG", mdtraj.element.virtual, md_top.add_residue("CG", chain))
    n = 0
    with atomic_path(out) as tmp:
        with CGWriter(tmp, top, periodic=periodic, attrs=attrs, chunk_frames=chunk_frames, forces=False) as w:
            for chunk in mdtraj.iterload(str(traj), top=md_top, chunk=chunk_frames):
                keep = np.ones(chunk.n_frames, bool) if stop_ps is None else chunk.time < stop_ps - 1e-9
                if not keep.any():
                    break
                c = chunk[np.flatnonzero(keep)]
                box = c.unitcell_vectors.astype(np.float64) if periodic else np.zeros((c.n_frames, 3, 3))
                xyz = wrap(c.xyz.astype(np.float64), box) if periodic else c.xyz
                w.append(xyz.astype(np.float32), None, box.astype(np.float32), c.time,
                         n + np.arange(c.n_frames, dtype=np.int64))   # frame index
                n += c.n_frames
                if not keep.all():
                    break
    return n


def frames_to_dataset(positions, time_ps, template: str | os.PathLike, out: str | os.PathLike, *,
                      source: str, box_side=None, chunk_frames: int = 500) -> int:
    """Positions (F, N, 3) nm of one CG trajectory held in memory (e.g. one JAX-MD chain) as a
    CG dataset without forces, with the topology and attributes of ``template``.

    ``box_side`` (3,) nm: constant orthorhombic box (periodic templates); positions are wrapped.
    Returns the number of frames written.
    """
    from .geometry import wrap
    from .io import atomic_path

    top, template_attrs = topology_of(template)
    periodic = bool(template_attrs.get("periodic", True))
    attrs = {k: v for k, v in template_attrs.items()
             if not k.startswith("unit_") and k not in ("format", "periodic", "n_frames")}
    attrs["source"] = source
    x = np.asarray(positions, dtype=np.float64)
    if x.ndim != 3 or x.shape[1] != top.n_beads:
        raise ValueError(f"positions of shape {x.shape} do not fit the template's {top.n_beads} beads")
    n_f = len(x)
    if periodic:
        if box_side is None:
            raise ValueError(f"{template} is periodic: give box_side")
        box = np.broadcast_to(np.diag(np.asarray(box_side, np.float64)), (n_f, 3, 3))
        x = wrap(x, box)
    else:
        box = np.zeros((n_f, 3, 3))
    with atomic_path(out) as tmp:
        with CGWriter(tmp, top, periodic=periodic, attrs=attrs, chunk_frames=chunk_frames, forces=False) as w:
            for s in range(0, n_f, chunk_frames):
                e = min(n_f, s + chunk_frames)
                w.append(x[s:e].astype(np.float32), None, box[s:e].astype(np.float32),
                         np.asarray(time_ps[s:e], np.float64), np.arange(s, e, dtype=np.int64))
    return n_f


class CGDataset:
    """Read access to a CG dataset; arrays are read lazily, chunk by chunk."""

    def __init__(self, path: str | os.PathLike):
        from .errors import InputError

        self.path = str(path)
        try:
            self.f = h5py.File(path, "r")
        except OSError as exc:
            raise InputError(f"cannot open CG dataset ({exc}).", file=self.path,
                             fix="re-run the mapping rule that makes it.") from exc
        if self.f.attrs.get("format") != FORMAT:
            raise InputError(f"not a {FORMAT} file.", file=self.path)
        t = self.f["topology"]
        self.topology = Topology(
            species=t["species"][()], species_names=[s.decode() if isinstance(s, bytes) else s
                                                     for s in t["species_names"][()]],
            bead_names=np.array([s.decode() if isinstance(s, bytes) else s for s in t["bead_names"][()]]),
            masses=t["masses"][()], molecule=t["molecule"][()], bonds=t["bonds"][()],
            angles=t["angles"][()], dihedrals=t["dihedrals"][()], exclusions=t["exclusions"][()])
        self.attrs = dict(self.f.attrs)

    @property
    def n_frames(self) -> int:
        return self.f["positions"].shape[0]

    @property
    def n_beads(self) -> int:
        return self.topology.n_beads

    @property
    def periodic(self) -> bool:
        return bool(self.attrs.get("periodic", True))

    def read(self, name: str, start: int = 0, stop: int | None = None, stride: int = 1) -> np.ndarray:
        return self.f[name][start:stop:stride]

    def iter_chunks(self, chunk: int = 500, stride: int = 1, start: int = 0, stop: int | None = None,
                    fields=("positions", "box")) -> Iterator[dict]:
        """Yield dicts of arrays for consecutive frame blocks (``stride`` subsamples)."""
        stop = self.n_frames if stop is None else min(stop, self.n_frames)
        step = chunk * stride
        for s in range(start, stop, step):
            e = min(s + step, stop)
            yield {name: self.f[name][s:e:stride] for name in fields}

    def close(self) -> None:
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
