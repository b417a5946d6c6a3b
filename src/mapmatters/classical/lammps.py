"""Run a tabulated classical CG model in LAMMPS (serial ``lmp``, ``units real``).

Files written by :func:`write_lammps_run` into one run directory:

- ``data.lmp``   atoms (``atom_style molecular``: id mol type x y z, molecules made whole),
  bonds, angles, dihedrals, masses, box;
- ``pair.table``, ``bond.table``, ``angle.table``, ``dihedral.table`` (one section per type);
- ``in.lmp``     ``pair_style table``, ``bond_style table``, ``angle_style table``,
  ``dihedral_style table``; ``special_bonds lj 0 0 0`` (1-2, 1-3 and 1-4 pairs carry no
  non-bonded term, the exclusions the model was fitted with); ``fix nve`` + ``fix langevin``
  (friction gamma in 1/ps -> damp = 1/gamma in fs: 100/ps -> 10 fs); dt in fs; thermo with
  the temperature; ``dump custom`` of unwrapped positions (this LAMMPS build has no ``dump
  dcd``/``xtc``: :func:`dump_to_xtc` converts the text dump to .xtc afterwards);
- ``cg.pdb``     CG topology for mdtraj/VMD (bead names, residue = molecule).

Units: positions nm -> A, energies kJ/mol -> kcal/mol at the writers (:mod:`.units`).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import geometry
from ..errors import InputError
from ..io import atomic_path, write_text
from . import units
from .model import InteractionType, ModelTopology
from .tables import PotentialTable, lammps_table_file

LMP = os.environ.get("MAPMATTERS_LMP", "lmp")


class LammpsError(RuntimeError):
    """lmp failed; the message names the command and the log."""


@dataclass
class LammpsSettings:
    """MD settings in internal units (ps, K, 1/ps) with the paper's defaults (STUDY.md section 5).

    Named as the config's MD block (``classical.<system>.md``) and the JAX-MD engine
    (:data:`mapmatters.simulate.md.MD_DEFAULTS`): ``frame_every_ps`` is the dump interval.
    """

    temperature_K: float = 300.0
    friction_per_ps: float = 100.0
    dt_ps: float = 0.002
    length_ps: float = 1000.0
    frame_every_ps: float = 0.5
    thermo_every_ps: float = 0.5
    seed: int = 1
    pair_table_points: int = 2000
    bonded_table_points: int = 2000
    neighbor_skin_nm: float = 0.2

    @classmethod
    def from_config(cls, md: dict, *, seed: int) -> LammpsSettings:
        """Settings for one run of a config MD block (``n_runs`` and ``frames_per_chunk`` are not
        LAMMPS'); thermo output as often as frames."""
        return cls(temperature_K=md["temperature_K"], friction_per_ps=md["friction_per_ps"],
                   dt_ps=md["dt_ps"], length_ps=md["length_ps"], frame_every_ps=md["frame_every_ps"],
                   thermo_every_ps=md["frame_every_ps"], seed=seed)

    def steps(self, t_ps: float) -> int:
        n = int(round(t_ps / self.dt_ps))
        if n < 1:
            raise InputError(f"{t_ps} ps is shorter than one time step ({self.dt_ps} ps).",
                             key="classical.md")
        return n


# --------------------------------------------------------------------------- atom types
def atom_types(model: ModelTopology) -> tuple[list[tuple[str, float]], list[int]]:
    """LAMMPS atom types = distinct (species, mass); returns the types and the type of each local bead."""
    types: list[tuple[str, float]] = []
    per_bead = []
    for s, m in zip(model.bead_species, model.masses):
        key = (s, round(float(m), 6))
        if key not in types:
            types.append(key)
        per_bead.append(types.index(key) + 1)
    return types, per_bead


def make_whole(pos: np.ndarray, model: ModelTopology, lengths: np.ndarray | None) -> np.ndarray:
    """Unwrap every molecule along its bonds (breadth-first from its first bead).

    :func:`mapmatters.geometry.make_whole_along` on the (n_molecules, beads, 3) view; a
    molecule type whose bond graph falls apart keeps each piece rooted at its first bead.
    """
    pos = np.array(pos, dtype=float)
    if lengths is None or not np.all(lengths > 0):
        return pos
    nb = model.beads_per_molecule
    edges = geometry.spanning_tree_edges(nb, model.bonds, forest=True)
    P = geometry.make_whole_along(pos.reshape(model.n_molecules, nb, 3), np.asarray(lengths, float), edges)
    return P.reshape(-1, 3)


# --------------------------------------------------------------------------- writers
def lammps_data_text(model: ModelTopology, positions_nm: np.ndarray, box_lengths_nm: np.ndarray | None,
                     type_names: dict[str, list[InteractionType]]) -> str:
    """The LAMMPS data file (``atom_style molecular``, units real).

    ``type_names[kind]`` lists the bonded interaction types in LAMMPS type order.
    Molecules are written whole; LAMMPS wraps atoms into the box and sets image flags.
    """
    types, per_bead = atom_types(model)
    pos = make_whole(positions_nm, model, box_lengths_nm)
    if pos.shape != (model.n_beads, 3):
        raise InputError(f"positions have shape {pos.shape}, expected ({model.n_beads}, 3).")
    x = units.nm_to_angstrom(pos)
    if box_lengths_nm is not None and np.all(box_lengths_nm > 0):
        hi = units.nm_to_angstrom(box_lengths_nm)
        lo = np.zeros(3)
    else:
        lo, hi = x.min(axis=0) - 10.0, x.max(axis=0) + 10.0
    nb = model.beads_per_molecule
    sections = {}
    counts = {}
    for kind, label in (("bond", "Bonds"), ("angle", "Angles"), ("dihedral", "Dihedrals")):
        terms, ttypes = model.global_terms(kind)
        counts[kind] = len(terms)
        if len(terms):
            tid = [type_names[kind].index(t) + 1 for t in ttypes]
            sections[label] = "".join(f"{k + 1} {tid[k]} " + " ".join(str(int(a) + 1) for a in terms[k]) + "\n"
                                      for k in range(len(terms)))
    lines = ["LAMMPS data file written by mapmatters.classical (units real)", "",
             f"{model.n_beads} atoms", f"{counts['bond']} bonds", f"{counts['angle']} angles",
             f"{counts['dihedral']} dihedrals", "0 impropers", "",
             f"{len(types)} atom types"]
    for kind in ("bond", "angle", "dihedral"):
        if type_names.get(kind):
            lines.append(f"{len(type_names[kind])} {kind} types")
    lines += ["", f"{lo[0]:.6f} {hi[0]:.6f} xlo xhi", f"{lo[1]:.6f} {hi[1]:.6f} ylo yhi",
              f"{lo[2]:.6f} {hi[2]:.6f} zlo zhi", "", "Masses", ""]
    lines += [f"{i + 1} {m:.6f}  # {s}" for i, (s, m) in enumerate(types)]
    lines += ["", "Atoms  # molecular", ""]
    for a in range(model.n_beads):
        mol = a // nb + 1
        lines.append(f"{a + 1} {mol} {per_bead[a % nb]} {x[a, 0]:.6f} {x[a, 1]:.6f} {x[a, 2]:.6f}")
    for label, body in sections.items():
        lines += ["", label, "", body.rstrip("\n")]
    return "\n".join(lines) + "\n"


def pair_table_for(tables: dict[str, PotentialTable], s1: str, s2: str) -> str | None:
    """Name of the pair table of species s1, s2 (either order) or None."""
    for a, b in ((s1, s2), (s2, s1)):
        name = InteractionType("pair", (a, b)).name
        if name in tables:
            return name
    return None


def lammps_system_text(model: ModelTopology, tables: dict[str, PotentialTable],
                       type_names: dict[str, list[InteractionType]], *, cutoff_nm: float,
                       periodic: bool = True, data: str = "data.lmp", pair_table_points: int = 2000,
                       bonded_table_points: int = 2000, neighbor_skin_nm: float = 0.2) -> str:
    """Input-script part that defines the system and the tabulated model (no dynamics)."""
    types, _ = atom_types(model)
    rc = float(units.nm_to_angstrom(cutoff_nm))
    L = ["units real", "atom_style molecular", f"boundary {'p p p' if periodic else 's s s'}",
         "special_bonds lj 0.0 0.0 0.0", f"read_data {data}", ""]
    L.append(f"pair_style table linear {pair_table_points}")
    for i in range(len(types)):
        for j in range(i, len(types)):
            name = pair_table_for(tables, types[i][0], types[j][0])
            if name is None:
                raise InputError(f"no pair table for species {types[i][0]}-{types[j][0]}.",
                                 key="classical.tables")
            L.append(f"pair_coeff {i + 1} {j + 1} pair.table {name} {rc:.6f}")
    for kind in ("bond", "angle", "dihedral"):
        names = type_names.get(kind) or []
        if not names:
            continue
        npts = bonded_table_points if kind != "dihedral" else 360
        L.append(f"{kind}_style table linear {npts}")
        for k, it in enumerate(names):
            if it.name not in tables:
                raise InputError(f"no table for {it.name}.", key="classical.tables")
            L.append(f"{kind}_coeff {k + 1} {kind}.table {it.name}")
    L += ["", f"neighbor {float(units.nm_to_angstrom(neighbor_skin_nm)):.3f} bin",
          "neigh_modify every 1 delay 0 check yes", ""]
    return "\n".join(L) + "\n"


def lammps_md_text(settings: LammpsSettings, dump: str = "traj.lammpstrj") -> str:
    """Input-script part for NVT Langevin dynamics (nve + langevin), thermo and the dump."""
    s = settings
    dt_fs = float(units.ps_to_fs(s.dt_ps))
    damp_fs = units.friction_to_damp_fs(s.friction_per_ps)
    n_run = s.steps(s.length_ps)
    n_dump = s.steps(s.frame_every_ps)
    n_thermo = s.steps(s.thermo_every_ps)
    seed_v = 1000 + (7919 * int(s.seed)) % 900000
    seed_l = 2000 + (104729 * int(s.seed)) % 900000
    L = [f"# NVT Langevin {s.temperature_K} K, friction {s.friction_per_ps}/ps -> damp {damp_fs:g} fs, "
         f"dt {dt_fs:g} fs, {s.length_ps:g} ps, seed {s.seed}",
         f"velocity all create {s.temperature_K} {seed_v} mom yes rot no dist gaussian",
         f"timestep {dt_fs:g}", "fix integrate all nve",
         f"fix thermostat all langevin {s.temperature_K} {s.temperature_K} {damp_fs:g} {seed_l} zero yes",
         "thermo_style custom step time temp pe ke etotal press",
         "thermo_modify flush yes norm no", f"thermo {n_thermo}",
         f"dump traj all custom {n_dump} {dump} id mol type xu yu zu",
         "dump_modify traj sort id", f"run {n_run}", ""]
    return "\n".join(L)


def lammps_input_text(model: ModelTopology, tables: dict[str, PotentialTable], settings: LammpsSettings,
                      type_names: dict[str, list[InteractionType]], *, cutoff_nm: float,
                      periodic: bool = True, data: str = "data.lmp", dump: str = "traj.lammpstrj") -> str:
    """The LAMMPS input script for an NVT Langevin run of the tabulated model."""
    head = f"# mapmatters classical CG run: {model.molecule_name} x {model.n_molecules}\n"
    return head + lammps_system_text(model, tables, type_names, cutoff_nm=cutoff_nm, periodic=periodic,
                                     data=data, pair_table_points=settings.pair_table_points,
                                     bonded_table_points=settings.bonded_table_points,
                                     neighbor_skin_nm=settings.neighbor_skin_nm) + lammps_md_text(settings, dump)


def cg_pdb_text(model: ModelTopology, positions_nm: np.ndarray, box_lengths_nm: np.ndarray | None) -> str:
    """A CG PDB (CRYST1 + ATOM records; residue = molecule, atom name = bead name, element X)."""
    x = units.nm_to_angstrom(make_whole(positions_nm, model, box_lengths_nm))
    out = []
    if box_lengths_nm is not None and np.all(box_lengths_nm > 0):
        a, b, c = units.nm_to_angstrom(box_lengths_nm)
        out.append(f"CRYST1{a:9.3f}{b:9.3f}{c:9.3f}{90:7.2f}{90:7.2f}{90:7.2f} P 1           1")
    nb = model.beads_per_molecule
    res = model.molecule_name[:3].upper()
    for k in range(model.n_beads):
        name = model.bead_names[k % nb][:4]
        mol = (k // nb) % 10000 + 1
        out.append(f"ATOM  {(k + 1) % 100000:5d} {name:<4s} {res:>3s} A{mol:4d}    "
                   f"{x[k, 0]:8.3f}{x[k, 1]:8.3f}{x[k, 2]:8.3f}{1.0:6.2f}{0.0:6.2f}          "
                   f"{model.bead_species[k % nb][:2]:>2s}")
    nbonds, _ = model.global_terms("bond")
    for i, j in nbonds:
        out.append(f"CONECT{i + 1:5d}{j + 1:5d}")
    out.append("END")
    return "\n".join(out) + "\n"


@dataclass
class LammpsRun:
    """Paths of one prepared LAMMPS run."""

    workdir: Path
    input: Path
    data: Path
    pdb: Path
    dump: Path
    settings: LammpsSettings
    files: dict = field(default_factory=dict)


def bonded_type_order(model: ModelTopology) -> dict[str, list[InteractionType]]:
    """Bonded interaction types per kind, in LAMMPS type-id order."""
    out: dict[str, list[InteractionType]] = {"bond": [], "angle": [], "dihedral": []}
    for it in model.bonded_types():
        out[it.kind].append(it)
    return out


def zero_table(itype: InteractionType, cutoff: float | None = None) -> PotentialTable:
    """A zero potential (for pair types never sampled, e.g. two species never closer than the cut-off)."""
    from .tables import output_grid

    x = output_grid(itype.kind, 0.5 if itype.kind == "bond" else 1.0, cutoff)
    return PotentialTable(itype, x, np.zeros_like(x), np.zeros_like(x), float(x[0]), float(x[-1]))


def write_lammps_run(workdir: str | os.PathLike, model: ModelTopology, tables: dict[str, PotentialTable],
                     positions_nm: np.ndarray, box_lengths_nm: np.ndarray | None, settings: LammpsSettings,
                     *, cutoff_nm: float) -> LammpsRun:
    """Write data, tables, input script and PDB for one run (all atomically)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    tables = dict(tables)
    order = bonded_type_order(model)
    for kind, its in order.items():
        for it in its:
            if it.name not in tables:
                if kind == "bond":
                    raise InputError(f"bond type {it.name} has no fitted table; a bond cannot be left out.",
                                     key="classical.tables", fix="use more frames so every bond is sampled.")
                tables[it.name] = zero_table(it)
    for it in model.pair_types():
        if pair_table_for(tables, *it.species) is None:
            tables[it.name] = zero_table(it, cutoff_nm)
    periodic = box_lengths_nm is not None and bool(np.all(np.asarray(box_lengths_nm) > 0))
    write_text(workdir / "data.lmp", lammps_data_text(model, positions_nm, box_lengths_nm, order))
    by_kind: dict[str, list[PotentialTable]] = {}
    for t in tables.values():
        by_kind.setdefault(t.kind, []).append(t)
    files = {}
    for kind, ts in by_kind.items():
        p = workdir / f"{kind}.table"
        write_text(p, lammps_table_file(ts, comment=kind))
        files[kind] = p
    write_text(workdir / "in.lmp", lammps_input_text(model, tables, settings, order, cutoff_nm=cutoff_nm,
                                                     periodic=periodic))
    write_text(workdir / "cg.pdb", cg_pdb_text(model, positions_nm, box_lengths_nm))
    return LammpsRun(workdir, workdir / "in.lmp", workdir / "data.lmp", workdir / "cg.pdb",
                     workdir / "traj.lammpstrj", settings, files)


# --------------------------------------------------------------------------- running and parsing
def lmp_binary() -> str | None:
    """Path of the LAMMPS binary or None."""
    return shutil.which(LMP)


def run_lammps(workdir: str | os.PathLike, *, input: str = "in.lmp", log: str = "log.lammps",
               screen_log: str | os.PathLike | None = None, nice: int | None = None,
               timeout: float | None = None, check: bool = True) -> tuple[float, int]:
    """Run ``lmp -in input -log log -screen none`` in ``workdir``; return (wall seconds, exit code).

    With ``check`` a non-zero exit raises :class:`LammpsError`; without, the caller decides (an
    unstable CG model typically stops LAMMPS with "Bond/angle ... outside table" or "Pair distance
    < table inner cutoff", which is a result, not a failure of the pipeline).
    """
    exe = lmp_binary()
    if exe is None:
        raise LammpsError(f"LAMMPS '{LMP}' is not on PATH: install the apt package 'lammps' "
                          "or set MAPMATTERS_LMP.")
    cmd = [exe, "-in", input, "-log", log, "-screen", "none", "-nocite"]
    if nice is not None:
        cmd = ["nice", "-n", str(int(nice))] + cmd
    # Debian's lmp is linked with Open MPI, which sees the SLURM step variables inside a
    # SLURM job and insists on a PMI launch it was not built for ("OMPI was not built with
    # SLURM's PMI support"). LAMMPS runs serially here, so hide the launcher's variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "PMI_", "PMIX_", "OMPI_"))}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, env=env)
    wall = time.perf_counter() - t0
    if screen_log is not None:
        with open(screen_log, "a") as fh:
            fh.write(f"$ (cd {workdir}; {' '.join(cmd)})\n{proc.stdout}\n")
    if proc.returncode != 0 and not (Path(workdir) / log).exists():
        raise LammpsError(f"lmp failed ({proc.returncode}) in {workdir} before writing {log}:\n"
                          f"{proc.stdout[-2000:]}")
    if check and proc.returncode != 0:
        raise LammpsError(f"lmp failed ({proc.returncode}) in {workdir}:\n{proc.stdout[-2000:]}\n"
                          f"{last_error(Path(workdir) / log)}")
    return wall, proc.returncode


def last_error(log_path: str | os.PathLike) -> str:
    """The last 'ERROR' line of a LAMMPS log ('' if none)."""
    p = Path(log_path)
    if not p.exists():
        return ""
    errs = [ln.strip() for ln in p.read_text(errors="replace").splitlines() if ln.startswith("ERROR")]
    return errs[-1] if errs else ""


def parse_thermo(log_path: str | os.PathLike):
    """Thermo output of a LAMMPS log as a pandas DataFrame (all run blocks, in order)."""
    import pandas as pd

    rows, header, columns = [], None, None
    with open(log_path, errors="replace") as fh:
        for line in fh:
            s = line.split()
            if s[:1] == ["Step"]:
                header = s
                columns = columns or s
                continue
            if header is None:
                continue
            if line.startswith("Loop time"):
                header = None
                continue
            if len(s) == len(header) and header == columns:
                try:
                    rows.append([float(v) for v in s])
                except ValueError:
                    continue
    if not rows:
        raise LammpsError(f"no thermo output in {log_path}")
    return pd.DataFrame(rows, columns=[h.lower() for h in columns])


def parse_performance(log_path: str | os.PathLike) -> dict:
    """LAMMPS' own timing: loop time (s), steps, atoms and 'Performance' ns/day (last run block)."""
    text = Path(log_path).read_text(errors="replace")
    out = {}
    m = list(re.finditer(r"Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms", text))
    if m:
        out.update(loop_seconds=float(m[-1].group(1)), procs=int(m[-1].group(2)),
                   steps=int(m[-1].group(3)), atoms=int(m[-1].group(4)))
    p = list(re.finditer(r"Performance:\s*([\d.eE+-]+) ns/day", text))
    if p:
        out["ns_per_day"] = float(p[-1].group(1))
    return out


def iter_dump_frames(path: str | os.PathLike):
    """Yield (timestep, box_lo (3,), box_hi (3,), columns dict) for each frame of a ``dump custom`` file."""
    with open(path) as fh:
        while True:
            line = fh.readline()
            if not line:
                return
            if not line.startswith("ITEM: TIMESTEP"):
                continue
            step = int(fh.readline())
            fh.readline()  # ITEM: NUMBER OF ATOMS
            n = int(fh.readline())
            fh.readline()  # ITEM: BOX BOUNDS ...
            bounds = np.array([[float(v) for v in fh.readline().split()[:2]] for _ in range(3)])
            cols = fh.readline().split()[2:]
            data = np.loadtxt([fh.readline() for _ in range(n)], ndmin=2)
            yield step, bounds[:, 0], bounds[:, 1], {c: data[:, k] for k, c in enumerate(cols)}


def dump_to_xtc(dump_path: str | os.PathLike, xtc_path: str | os.PathLike, dt_ps: float) -> int:
    """Convert a LAMMPS ``dump custom`` (id ... xu yu zu, A) to .xtc (nm); returns the frame count."""
    from mdtraj.formats import XTCTrajectoryFile

    n = 0
    with atomic_path(xtc_path, suffix=".xtc") as tmp:
        with XTCTrajectoryFile(str(tmp), "w") as xtc:
            for step, lo, hi, cols in iter_dump_frames(dump_path):
                order = np.argsort(cols["id"])
                xyz = np.stack([cols[k] for k in ("xu", "yu", "zu")], axis=1)[order]
                box = np.diag(units.angstrom_to_nm(hi - lo)).astype(np.float32)
                xtc.write(units.angstrom_to_nm(xyz)[None].astype(np.float32), time=[step * dt_ps],
                          step=[step], box=box[None])
                n += 1
    return n


def initial_frame(ds, frame: int = -1) -> tuple[np.ndarray, np.ndarray | None]:
    """Positions (nm) and box edge lengths (nm, None if not periodic) of one dataset frame."""
    from ..geometry import box_lengths

    n = ds.n_frames
    k = frame % n
    pos = ds.read("positions", k, k + 1)[0].astype(float)
    L = box_lengths(ds.read("box", k, k + 1))[0] if ds.periodic else None
    return pos, L
