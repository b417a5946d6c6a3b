"""Force matching with VOTCA ``csg_fmatch``, driven by a CG dataset.

How VOTCA reads our data (VOTCA 2022.1):

- the CG dataset is written as a GROMACS ``.trr`` with positions and forces
  (:func:`write_trr`, MDAnalysis' TRRWriter; it takes Angstrom and kJ/mol/A, we convert);
- the CG topology is a *pure* VOTCA XML topology (no ``base`` attribute,
  :func:`votca_topology_xml`): one ``<molecule name nmols nbeads>`` with ``<bead name type
  mass>`` entries, and a ``<bonded>`` section whose ``<bond>/<angle>/<dihedral>`` entries
  carry the interaction-type name and ``MOL:BEAD`` lists. VOTCA builds the non-bonded
  exclusions from these bonded terms (1-2, 1-3, 1-4), exactly our excluded pairs;
- ``csg_fmatch --top topol.xml --trj cg.trr --no-map --options settings.xml``: no mapping,
  the trajectory already is the CG one;
- the settings (:func:`votca_settings_xml`) have one ``<bonded>`` per bonded type and one
  ``<non-bonded>`` per species pair with ``type1/type2``; each ``<fmatch>`` block holds the
  spline grid (min, max, step) and the output grid (out_step). Grids come from the data
  (:func:`choose_grid`): every spline interval must hold samples in *every* block, or the
  constrained least-squares solver aborts with ``constrained_qrsolve_zero_column_in_matrix``
  (the error behind votca issue 1182, seen with ``frames_per_block 5``).

``csg_fmatch`` writes ``<name>.force`` files: x, F(x) = -dU/dx, block error, flag.
"""
from __future__ import annotations

import contextlib
import math
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from ..errors import InputError
from ..io import atomic_path, write_text
from ..units import NM_TO_ANGSTROM
from . import geometry
from .model import InteractionType, ModelTopology

CSG_FMATCH = os.environ.get("MAPMATTERS_CSG_FMATCH", "csg_fmatch")


class VotcaError(RuntimeError):
    """csg_fmatch failed; the message names the command and the log."""


# --------------------------------------------------------------------------- options and grids
@dataclass
class FitOptions:
    """Force-matching settings (units nm, rad).

    ``min_count``: fewest samples per spline interval in every block for that interval to be
    trusted; ``extend_count``: fewest for it to be part of the spline grid at all (see
    :func:`choose_grid`). ``pair_cutoff`` is capped at half the smallest box edge minus ``box_margin``.
    """

    frames_per_block: int = 25
    start: int = 0
    stop: int | None = None
    stride: int = 1
    pair_cutoff: float = 1.2
    box_margin: float = 0.1
    bond_step: float = 0.005
    angle_step: float = 0.05
    dihedral_step: float = 2 * math.pi / 36
    pair_step: float = 0.02
    bond_out_step: float = 0.001
    angle_out_step: float = 0.01
    dihedral_out_step: float = 2 * math.pi / 360
    pair_out_step: float = 0.002
    min_count: int = 10
    extend_count: int = 1
    constrained_ls: bool = True
    nbsearch: str = "grid"

    def step(self, kind: str) -> float:
        return getattr(self, f"{kind}_step")

    def out_step(self, kind: str) -> float:
        return getattr(self, f"{kind}_out_step")


@dataclass
class FitGrid:
    """The spline grid of one interaction type (VOTCA ``fmatch`` block)."""

    itype: InteractionType
    min: float
    max: float
    step: float
    out_step: float
    periodic: bool = False
    n_samples: int = 0
    trust_min: float | None = None
    trust_max: float | None = None
    n_sparse_bins: int = 0          # periodic grids: bins left unsampled in some block

    @property
    def name(self) -> str:
        return self.itype.name

    @property
    def trusted(self) -> tuple[float, float]:
        """The well-sampled part of the grid (the whole grid unless set)."""
        return (self.min if self.trust_min is None else self.trust_min,
                self.max if self.trust_max is None else self.trust_max)


@dataclass(frozen=True)
class GridRange:
    """A fit range: the spline grid [min, max] and the trusted part [trust_min, trust_max]."""

    min: float
    max: float
    trust_min: float
    trust_max: float


def choose_grid(block_values: list[np.ndarray], lo: float, hi: float, step: float, min_count: int,
                anchor: str = "mode", extend_count: int = 1) -> GridRange | None:
    """Spline grid and trusted range from the samples of each fit block.

    Bins are ``step`` wide on [lo, hi]. The *trusted* range is the largest contiguous run of
    bins in which every block has at least ``min_count`` values: around the most populated
    bin (``anchor='mode'``, bonded terms) or ending at ``hi`` (``anchor='high'``, non-bonded
    pairs, whose cut-off end is always well sampled). The *grid* extends that run outwards
    while every block still has at least ``extend_count`` values per bin, so that few samples
    fall outside the grid (csg_fmatch lumps those into the edge interval and biases it) while
    no spline interval is empty (an empty one aborts csg_fmatch with a zero column).
    Returns None when the trusted run has fewer than two bins.
    """
    nbins = int(math.floor((hi - lo) / step + 1e-9))
    if nbins < 2:
        return None
    edges = lo + step * np.arange(nbins + 1)
    counts = np.stack([np.histogram(np.asarray(v, dtype=float), bins=edges)[0] for v in block_values])
    cmin = counts.min(axis=0)
    ok = cmin >= min_count
    if anchor == "high":
        if not ok[-1]:
            return None
        j0 = j1 = nbins - 1
    else:
        masked = np.where(ok, counts.sum(axis=0), -1)
        j0 = j1 = int(np.argmax(masked))
        if masked[j0] < 0:
            return None
    while j0 - 1 >= 0 and ok[j0 - 1]:
        j0 -= 1
    while j1 + 1 < nbins and ok[j1 + 1]:
        j1 += 1
    if j1 - j0 + 1 < 2:
        return None
    g0, g1 = j0, j1
    usable = cmin >= max(1, extend_count)
    while g0 - 1 >= 0 and usable[g0 - 1]:
        g0 -= 1
    while g1 + 1 < nbins and usable[g1 + 1]:
        g1 += 1

    def e(k):
        return round(float(edges[k]), 10)

    return GridRange(e(g0), e(g1 + 1), e(j0), e(j1 + 1))


def periodic_grid(block_values: list[np.ndarray], step: float, min_count: int = 1,
                  max_step: float = math.pi / 3) -> tuple[float, int] | None:
    """The finest periodic grid on [-pi, pi) (step >= ``step``) that csg_fmatch can solve.

    csg_fmatch needs every grid point to have samples in at least one adjacent interval in every
    block (else its column in the fit matrix is zero). Single unsampled intervals (the cis region
    of a dihedral) are allowed; the spline bridges them by continuity. Returns (step, number of
    bins unsampled in some block) or None.
    """
    n = max(3, int(math.floor(2 * math.pi / step + 1e-9)))
    while 2 * math.pi / n <= max_step + 1e-9:
        edges = np.linspace(-math.pi, math.pi, n + 1)
        counts = np.stack([np.histogram(np.asarray(v, dtype=float), bins=edges)[0] for v in block_values])
        ok = counts >= min_count                       # (blocks, bins)
        point_ok = ok | np.roll(ok, 1, axis=1)          # point k sits between bins k-1 and k
        if point_ok.all():
            return 2 * math.pi / n, int((~ok.all(axis=0)).sum())
        n -= 1
    return None


def effective_cutoff(options: FitOptions, box_lengths: np.ndarray | None) -> float:
    """The non-bonded cut-off: ``pair_cutoff``, capped below half the smallest box edge."""
    rc = float(options.pair_cutoff)
    if box_lengths is not None and np.all(box_lengths > 0):
        cap = 0.5 * float(np.min(box_lengths)) - options.box_margin
        rc = min(rc, cap)
    # keep the grid on whole steps
    n = math.floor(rc / options.pair_step + 1e-9)
    return round(n * options.pair_step, 10)


def frame_selection(n_frames: int, options: FitOptions) -> np.ndarray:
    """Indices of the frames that go into force matching (a whole number of blocks)."""
    stop = n_frames if options.stop is None else min(options.stop, n_frames)
    idx = np.arange(options.start, stop, options.stride)
    n_use = (len(idx) // options.frames_per_block) * options.frames_per_block
    if n_use == 0:
        raise InputError(f"only {len(idx)} frames are selected but one force-matching block needs "
                         f"{options.frames_per_block}.", key="classical.frames_per_block",
                         fix="use more frames or a smaller frames_per_block (25 or more is safe; "
                             "5 aborts with a zero column).")
    return idx[:n_use]


def sample_interactions(ds, model: ModelTopology, frames: np.ndarray, options: FitOptions,
                        cutoff: float) -> dict[InteractionType, list[np.ndarray]]:
    """Per block, every value of every bonded coordinate and every non-bonded distance < cutoff."""
    fpb = options.frames_per_block
    out: dict[InteractionType, list[np.ndarray]] = {}
    bonded = {kind: model.global_terms(kind) for kind in ("bond", "angle", "dihedral")}
    species = model.species_per_bead()
    pair_types = model.pair_types()
    nb = model.beads_per_molecule
    excluded = {(m * nb + i, m * nb + j) for m in range(model.n_molecules)
                for i, j in model.excluded_pairs()}
    for b0 in range(0, len(frames), fpb):
        fr = frames[b0:b0 + fpb]
        pos = ds.f["positions"][fr[0]:fr[-1] + 1][fr - fr[0]].astype(float)
        box = ds.f["box"][fr[0]:fr[-1] + 1][fr - fr[0]]
        L = geometry.box_lengths(box) if ds.periodic else None
        for kind, (terms, types) in bonded.items():
            if len(terms) == 0:
                continue
            vals = geometry.bonded_values(kind, pos, terms, L)
            tarr = np.asarray([t.name for t in types])
            for it in dict.fromkeys(types):
                out.setdefault(it, []).append(vals[:, tarr == it.name].ravel())
        sid = np.asarray([model.species_names.index(s) for s in species])
        ns = len(model.species_names)
        per_type: dict[int, list[np.ndarray]] = {}
        for f in range(len(fr)):
            i, j, d = geometry.neighbour_pairs(pos[f], None if L is None else L[f], cutoff, excluded)
            a, b = np.minimum(sid[i], sid[j]), np.maximum(sid[i], sid[j])
            key = a * ns + b
            for k in np.unique(key):
                per_type.setdefault(int(k), []).append(d[key == k])
        for it in pair_types:
            a, b = (model.species_names.index(s) for s in it.species)
            k = min(a, b) * ns + max(a, b)
            vals = per_type.get(k, [])
            out.setdefault(it, []).append(np.concatenate(vals) if vals else np.zeros(0))
    return out


def choose_grids(samples: dict[InteractionType, list[np.ndarray]], options: FitOptions,
                 cutoff: float) -> tuple[list[FitGrid], dict[str, str]]:
    """Fit grids for every sampled interaction type; also the reasons for the ones skipped."""
    grids: list[FitGrid] = []
    skipped: dict[str, str] = {}
    for it, blocks in samples.items():
        n = int(sum(len(b) for b in blocks))
        kind = "pair" if it.kind == "pair" else it.kind
        step, out_step = options.step(kind), options.out_step(kind)
        if n == 0:
            skipped[it.name] = "no samples"
            continue
        if kind == "dihedral":
            g = periodic_grid(blocks, step, options.extend_count)
            if g is None:
                skipped[it.name] = ("some dihedral grid point has no samples on either side in a block "
                                    "even with 60-degree bins; use more frames per block")
            else:
                s, n_sparse = g
                grids.append(FitGrid(it, -math.pi, math.pi, s, out_step, True, n, n_sparse_bins=n_sparse))
            continue
        if kind == "bond":
            allv = np.concatenate(blocks)
            lo = max(0.0, math.floor((allv.min() - step) / step) * step)
            hi = math.ceil((allv.max() + step) / step) * step
            r = choose_grid(blocks, lo, hi, step, options.min_count, extend_count=options.extend_count)
        elif kind == "angle":
            r = choose_grid(blocks, 0.0, math.pi, step, options.min_count, extend_count=options.extend_count)
        else:  # pair: grid ends at the cut-off
            r = choose_grid(blocks, cutoff - step * math.floor(cutoff / step + 1e-9), cutoff, step,
                            options.min_count, anchor="high", extend_count=options.extend_count)
        if r is None:
            skipped[it.name] = (f"fewer than 2 spline intervals with >= {options.min_count} samples "
                                "in every block")
            continue
        grids.append(FitGrid(it, r.min, r.max, step, out_step, False, n, r.trust_min, r.trust_max))
    return grids, skipped


# --------------------------------------------------------------------------- XML writers
def votca_topology_xml(model: ModelTopology) -> str:
    """A pure VOTCA XML topology of ``model`` (bonded sections named by interaction type)."""
    mol = escape(model.molecule_name)
    lines = ["<topology>", "  <molecules>",
             f'    <molecule name="{mol}" nmols="{model.n_molecules}" nbeads="{model.beads_per_molecule}">']
    for name, sp, m in zip(model.bead_names, model.bead_species, model.masses):
        lines.append(f'      <bead name="{escape(name)}" type="{escape(sp)}" mass="{m:.6f}" q="0"/>')
    lines += ["    </molecule>", "  </molecules>"]
    types = model.bonded_types()
    if types:
        lines.append("  <bonded>")
        for it, terms in types.items():
            beads = "\n        ".join(" ".join(f"{mol}:{model.bead_names[i]}" for i in t) for t in terms)
            lines += [f"    <{it.kind}>", f"      <name>{escape(it.name)}</name>",
                      f"      <beads>\n        {beads}\n      </beads>", f"    </{it.kind}>"]
        lines.append("  </bonded>")
    lines.append("</topology>")
    return "\n".join(lines) + "\n"


def _table_domain(g: FitGrid, cutoff: float) -> tuple[float, float, float]:
    kind = g.itype.kind
    if kind == "pair":
        return 0.0, cutoff, 0.002
    if kind == "bond":
        return 0.0, max(2 * g.max, g.max + 0.5), 0.001
    if kind == "angle":
        return 0.0, math.pi, 0.01
    return -math.pi, math.pi, 2 * math.pi / 360


def votca_settings_xml(grids: list[FitGrid], options: FitOptions, cutoff: float) -> str:
    """VOTCA settings (``--options``) for csg_fmatch from the fit grids."""
    lines = ["<cg>", "  <fmatch>",
             f"    <constrainedLS>{'true' if options.constrained_ls else 'false'}</constrainedLS>",
             f"    <frames_per_block>{int(options.frames_per_block)}</frames_per_block>",
             "  </fmatch>", f"  <nbsearch>{options.nbsearch}</nbsearch>"]
    for g in grids:
        tag = "non-bonded" if g.itype.kind == "pair" else "bonded"
        dmin, dmax, dstep = _table_domain(g, cutoff)
        lines += [f"  <{tag}>", f"    <name>{escape(g.name)}</name>"]
        if tag == "non-bonded":
            lines += [f"    <type1>{escape(g.itype.species[0])}</type1>",
                      f"    <type2>{escape(g.itype.species[1])}</type2>"]
        lines += [f"    <min>{dmin:.10g}</min>", f"    <max>{dmax:.10g}</max>", f"    <step>{dstep:.10g}</step>",
                  "    <fmatch>", f"      <min>{g.min:.10g}</min>", f"      <max>{g.max:.10g}</max>",
                  f"      <step>{g.step:.10g}</step>", f"      <out_step>{g.out_step:.10g}</out_step>"]
        if g.periodic:
            lines.append("      <periodic>true</periodic>")
        lines += ["    </fmatch>", f"  </{tag}>"]
    lines.append("</cg>")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- trajectory
def write_trr(ds, path: str | os.PathLike, frames: np.ndarray, chunk: int = 500) -> None:
    """Write the selected frames of a CG dataset as a GROMACS .trr with positions and forces.

    MDAnalysis works in Angstrom and kJ/mol/A and converts to nm and kJ/mol/nm when writing,
    so positions are multiplied and forces divided by 10 here.
    """
    import MDAnalysis as mda
    from MDAnalysis.coordinates.TRR import TRRWriter

    n = ds.n_beads
    u = mda.Universe.empty(n, trajectory=True, velocities=False, forces=True)
    ts = u.trajectory.ts
    periodic = ds.periodic
    frames = np.asarray(frames)
    with atomic_path(path, suffix=".trr") as tmp:
        with TRRWriter(str(tmp), n_atoms=n) as w:
            for c0 in range(0, len(frames), chunk):
                fr = frames[c0:c0 + chunk]
                sl = slice(int(fr[0]), int(fr[-1]) + 1)
                sel = fr - fr[0]
                pos = ds.f["positions"][sl][sel]
                frc = ds.f["forces"][sl][sel]
                box = ds.f["box"][sl][sel]
                tim = ds.f["time"][sl][sel]
                stp = ds.f["step"][sl][sel]
                L = geometry.box_lengths(box) if periodic else np.zeros((len(fr), 3))
                for k in range(len(fr)):
                    ts.positions = pos[k].astype(np.float64) * NM_TO_ANGSTROM
                    ts.forces = frc[k].astype(np.float64) / NM_TO_ANGSTROM
                    ts.dimensions = [*(L[k] * NM_TO_ANGSTROM), 90.0, 90.0, 90.0] if periodic else None
                    ts.time = float(tim[k])
                    ts.frame = c0 + k
                    ts.data["step"] = int(stp[k])
                    w.write(u)


# --------------------------------------------------------------------------- running
def csg_fmatch_binary() -> str | None:
    """Path of csg_fmatch or None."""
    return shutil.which(CSG_FMATCH)


def run_csg_fmatch(workdir: str | os.PathLike, *, top: str = "topol.xml", trj: str = "cg.trr",
                   options: str = "settings.xml", log: str | os.PathLike | None = None,
                   nice: int | None = None) -> float:
    """Run ``csg_fmatch --top --trj --no-map --options`` in ``workdir``; return wall seconds."""
    exe = csg_fmatch_binary()
    if exe is None:
        raise VotcaError(f"VOTCA '{CSG_FMATCH}' is not on PATH: install the apt package 'votca' "
                         "or set MAPMATTERS_CSG_FMATCH.")
    cmd = [exe, "--top", top, "--trj", trj, "--no-map", "--options", options]
    if nice is not None:
        cmd = ["nice", "-n", str(int(nice))] + cmd
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=workdir, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t0
    if log is not None:
        with open(log, "a") as fh:
            fh.write(f"$ (cd {workdir}; {' '.join(cmd)})\n{proc.stdout}\n")
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.replace("\r", "\n").strip().splitlines()[-8:])
        hint = ""
        if "zero_column" in proc.stdout:
            hint = (" A spline interval got no samples in a block: use more frames_per_block, a "
                    "larger min_count or coarser steps.")
        raise VotcaError(f"csg_fmatch failed ({proc.returncode}) in {workdir}.{hint}\n{tail}\n"
                         f"(full output in {log})")
    return wall


def read_votca_table(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a VOTCA table (x y [yerr] flag): returns x, y and yerr (zeros if absent)."""
    xs, ys, es = [], [], []
    with open(path) as fh:
        for line in fh:
            s = line.split("#", 1)[0].split()
            if not s or s[0].startswith("@"):
                continue
            nums = []
            for tok in s:
                try:
                    nums.append(float(tok))
                except ValueError:
                    break
            if len(nums) < 2:
                continue
            xs.append(nums[0])
            ys.append(nums[1])
            es.append(nums[2] if len(nums) > 2 else 0.0)
    return np.asarray(xs), np.asarray(ys), np.asarray(es)


@dataclass
class ForceMatchResult:
    """Force tables from csg_fmatch: ``forces[name] = (x, F, err)`` on the fit grid (nm/rad)."""

    model: ModelTopology
    grids: list[FitGrid]
    forces: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    skipped: dict[str, str]
    cutoff: float
    n_frames: int
    n_blocks: int
    wall_seconds: float
    workdir: str
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-able description of the fit (grids, skipped types, timing)."""
        return {"cutoff_nm": self.cutoff, "n_frames": self.n_frames, "n_blocks": self.n_blocks,
                "fmatch_wall_s": round(self.wall_seconds, 2),
                "grids": [{"name": g.name, "kind": g.itype.kind, "species": list(g.itype.species),
                           "min": g.min, "max": g.max, "step": g.step, "out_step": g.out_step,
                           "trust_min": g.trusted[0], "trust_max": g.trusted[1],
                           "periodic": g.periodic, "n_samples": g.n_samples,
                           "n_sparse_bins": g.n_sparse_bins} for g in self.grids],
                "skipped": self.skipped, **self.extra}


def force_match(dataset_path: str | os.PathLike, workdir: str | os.PathLike, options: FitOptions | None = None,
                *, log: str | os.PathLike | None = None, nice: int | None = None,
                molecule_name: str | None = None) -> ForceMatchResult:
    """The whole VOTCA stage: CG dataset -> trr + XML -> csg_fmatch -> force tables.

    ``workdir`` receives ``topol.xml``, ``settings.xml``, ``cg.trr`` and the ``*.force`` files.
    """
    from ..cgdata import CGDataset

    options = options or FitOptions()
    if options.frames_per_block < 2:
        raise InputError("frames_per_block must be at least 2 (25 or more is safe).",
                         key="classical.frames_per_block")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with CGDataset(dataset_path) as ds:
        model = ModelTopology.from_dataset(ds, molecule_name=molecule_name)
        frames = frame_selection(ds.n_frames, options)
        L0 = geometry.box_lengths(ds.read("box", 0, 1))[0] if ds.periodic else None
        cutoff = effective_cutoff(options, L0)
        if cutoff <= 2 * options.pair_step:
            raise InputError(f"the non-bonded cut-off {cutoff} nm is too short for the box.",
                             file=str(dataset_path), key="classical.pair_cutoff")
        samples = sample_interactions(ds, model, frames, options, cutoff)
        grids, skipped = choose_grids(samples, options, cutoff)
        if not grids:
            raise InputError("no interaction has enough samples to be force-matched.",
                             file=str(dataset_path), fix="use more frames or a smaller min_count.")
        write_text(workdir / "topol.xml", votca_topology_xml(model))
        write_text(workdir / "settings.xml", votca_settings_xml(grids, options, cutoff))
        write_trr(ds, workdir / "cg.trr", frames)
    for g in grids:
        with contextlib.suppress(FileNotFoundError):
            (workdir / f"{g.name}.force").unlink()
    wall = run_csg_fmatch(workdir, log=log, nice=nice)
    forces = {}
    for g in grids:
        p = workdir / f"{g.name}.force"
        if not p.exists():
            raise VotcaError(f"csg_fmatch did not write {p}.")
        forces[g.name] = read_votca_table(p)
    return ForceMatchResult(model=model, grids=grids, forces=forces, skipped=skipped, cutoff=cutoff,
                            n_frames=len(frames), n_blocks=len(frames) // options.frames_per_block,
                            wall_seconds=wall, workdir=str(workdir),
                            extra={"options": asdict(options)})
