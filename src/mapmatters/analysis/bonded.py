"""Bonded observables of CG trajectories: bond lengths, angles, dihedrals and their histograms.

Units: positions and boxes in nm (boxes as GROMACS row vectors, lower triangular), bond
lengths in nm, angles and dihedrals in degrees. Angles lie in [0, 180]; dihedrals in
[-180, 180] with the IUPAC/IUPAC-IUB sign convention used by GROMACS and
``mdtraj.compute_dihedrals``: cis = 0, trans = +-180, and the angle is positive when,
looking along the central bond j -> k, the far bond k-l is rotated clockwise from the near
bond j-i.

All displacement vectors are taken under the minimum-image convention
(:func:`mapmatters.geometry.minimum_image`) when a box is given, so a bond split across
the periodic boundary has its true length. ``box=None`` means no periodicity.

The streaming helpers work on a :class:`mapmatters.cgdata.CGDataset` chunk by chunk, so
the number of frames is limited only by disk.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import geometry
from ..errors import InputError

KINDS = {"bond": 2, "angle": 3, "dihedral": 4}
#: CSV column names (value column, density column) per observable kind; units in the names.
CSV_COLUMNS = {
    "bond": ("bond_nm", "density_per_nm"),
    "angle": ("angle_deg", "density_per_deg"),
    "dihedral": ("dihedral_deg", "density_per_deg"),
    "nearest_neighbour": ("distance_nm", "density_per_nm"),
}


# --------------------------------------------------------------------------- geometry
def _frames(positions: np.ndarray, box: np.ndarray | None):
    """Positions as float64 (F, N, 3) and box as (F, 3, 3) or None."""
    x = np.asarray(positions, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"positions must have shape (F, N, 3) or (N, 3), got {x.shape}")
    if box is None:
        return x, None
    b = np.asarray(box, dtype=np.float64)
    if b.ndim == 2:
        b = b[None]
    b = np.broadcast_to(b, (x.shape[0], 3, 3))
    return x, b


_tuples = geometry.as_tuples


def _displacement(x: np.ndarray, box: np.ndarray | None, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Vectors x_j - x_i (F, K, 3) in nm, minimum image if ``box`` is given."""
    return geometry.displacements(x, i, j, box)


def bond_lengths(positions: np.ndarray, box: np.ndarray | None, pairs) -> np.ndarray:
    """Distances |x_j - x_i| in nm for bead pairs (K, 2); returns (F, K).

    ``positions`` (F, N, 3) or (N, 3) in nm; ``box`` (F, 3, 3) / (3, 3) nm or ``None``.
    """
    x, b = _frames(positions, box)
    return geometry.distances(x, pairs, b)


def angles_deg(positions: np.ndarray, box: np.ndarray | None, triples) -> np.ndarray:
    """Angles i-j-k (vertex j) in degrees, in [0, 180], for triples (K, 3); returns (F, K).

    :func:`mapmatters.geometry.angles` in degrees.
    """
    x, b = _frames(positions, box)
    return np.degrees(geometry.angles(x, triples, b))


def dihedrals_deg(positions: np.ndarray, box: np.ndarray | None, quads) -> np.ndarray:
    """Dihedral angles i-j-k-l in degrees, in [-180, 180], for quadruples (K, 4); returns (F, K).

    :func:`mapmatters.geometry.dihedrals` in degrees: IUPAC convention (as GROMACS and
    ``mdtraj.compute_dihedrals``), cis = 0, trans = +-180, positive for a clockwise rotation
    of k-l relative to j-i seen along j -> k.
    """
    x, b = _frames(positions, box)
    return np.degrees(geometry.dihedrals(x, quads, b))


def observable_values(kind: str, positions: np.ndarray, box: np.ndarray | None, tuples) -> np.ndarray:
    """Dispatch on ``kind`` in {bond, angle, dihedral}: nm for bonds, degrees otherwise."""
    if kind == "bond":
        return bond_lengths(positions, box, tuples)
    if kind == "angle":
        return angles_deg(positions, box, tuples)
    if kind == "dihedral":
        return dihedrals_deg(positions, box, tuples)
    raise InputError(f"unknown observable kind '{kind}'.", key="observable.kind",
                     fix="use one of: bond, angle, dihedral.")


def nearest_neighbour_distances(positions: np.ndarray, box: np.ndarray | None, species,
                                target_species: int, beads=None, *, return_index: bool = False,
                                block_pairs: int = 2_000_000):
    """Distance (nm) from each bead to its nearest bead of species ``target_species``.

    The bead itself is never its own neighbour; every other bead counts, in the same or
    another molecule (this is what shows bond partners switching for the two-site MLP).
    ``beads`` selects which beads to report (default: all beads); ``species`` is the integer
    species per bead (N,). Minimum image is used when ``box`` is given, which is exact for
    neighbours closer than half the shortest box height.

    Returns (F, n_selected) distances in nm, and with ``return_index`` also the (F, n_selected)
    global index of the nearest bead (-1 and ``inf`` where no other bead of that species exists).
    """
    x, b = _frames(positions, box)
    species = np.asarray(species)
    sel = np.arange(x.shape[1]) if beads is None else np.asarray(beads, dtype=np.int64)
    targets = np.flatnonzero(species == target_species)
    n_f = x.shape[0]
    dist = np.full((n_f, len(sel)), np.inf)
    index = np.full((n_f, len(sel)), -1, dtype=np.int64)
    if len(targets) == 0 or len(sel) == 0:
        return (dist, index) if return_index else dist
    ii = np.repeat(sel, len(targets))
    jj = np.tile(targets, len(sel))
    per_frame = len(ii)
    step = max(1, block_pairs // per_frame)
    for f0 in range(0, n_f, step):
        f1 = min(n_f, f0 + step)
        d = _displacement(x[f0:f1], None if b is None else b[f0:f1], ii, jj)
        r = np.linalg.norm(d, axis=-1).reshape(f1 - f0, len(sel), len(targets))
        r[:, sel[:, None] == targets[None, :]] = np.inf
        k = np.argmin(r, axis=-1)
        dist[f0:f1] = np.take_along_axis(r, k[..., None], axis=-1)[..., 0]
        index[f0:f1] = np.where(np.isfinite(dist[f0:f1]), targets[k], -1)
    return (dist, index) if return_index else dist


# --------------------------------------------------------------------------- histograms
@dataclass
class Histogram:
    """Histogram of one observable accumulated over frames.

    ``edges`` (nbins + 1) are in the observable's unit (nm or deg); ``counts`` are raw
    sample counts per bin; ``n_outside`` counts samples beyond the range (not in ``counts``).
    """

    kind: str
    edges: np.ndarray
    counts: np.ndarray
    n_outside: int = 0
    n_frames: int = 0

    @property
    def centers(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def widths(self) -> np.ndarray:
        return np.diff(self.edges)

    @property
    def n_samples(self) -> int:
        """Samples inside the range."""
        return int(self.counts.sum())

    @property
    def density(self) -> np.ndarray:
        """Probability density (1/nm or 1/deg) normalised to integrate to 1 over the range.

        Samples outside the range (``n_outside``) are not part of the normalisation.
        """
        n = self.counts.sum()
        if n == 0:
            return np.zeros_like(self.counts, dtype=np.float64)
        return self.counts / (n * self.widths)

    def add(self, values: np.ndarray) -> None:
        """Add samples (any shape) to the histogram."""
        v = np.asarray(values, dtype=np.float64).ravel()
        lo, hi = self.edges[0], self.edges[-1]
        inside = (v >= lo) & (v <= hi)
        self.n_outside += int(v.size - inside.sum())
        c, _ = np.histogram(v[inside], bins=self.edges)
        self.counts += c


def bin_edges(kind: str, width: float, r_max_nm: float | None = None) -> np.ndarray:
    """Bin edges for an observable: bond 0..``r_max_nm`` (width in nm), angle 0..180 and
    dihedral -180..180 (width in deg). The range must be a whole number of bins."""
    if width <= 0:
        raise InputError(f"bin width must be positive, got {width}.", key="bin_width",
                         fix="give a positive bin width (nm for bonds, deg for angles).")
    if kind == "bond":
        if r_max_nm is None or r_max_nm <= 0:
            raise InputError("a bond histogram needs a positive r_max (nm).", key="r_max_nm",
                             fix="set r_max_nm, e.g. 1.0.")
        lo, hi = 0.0, float(r_max_nm)
    elif kind == "angle":
        lo, hi = 0.0, 180.0
    elif kind in ("dihedral",):
        lo, hi = -180.0, 180.0
    else:
        raise InputError(f"unknown observable kind '{kind}'.", key="observable.kind",
                         fix="use one of: bond, angle, dihedral.")
    n = (hi - lo) / width
    nbins = int(round(n))
    if nbins < 1 or abs(n - nbins) > 1e-6 * max(1.0, n):
        raise InputError(f"the {kind} range {lo}..{hi} is not a whole number of bins of width {width}.",
                         key="bin_width", fix=f"choose a width that divides {hi - lo}.")
    return np.linspace(lo, hi, nbins + 1)


def observable_tuples(ds) -> np.ndarray:
    """Global bead tuples of a dataset's observable: ``observable_beads`` (indices within one
    molecule) replicated over molecules, molecule m holding beads m * beads_per_molecule + local.

    Returns (n_molecules, k) int64 with k = 2, 3 or 4 for bond, angle, dihedral.
    """
    a = ds.attrs
    kind = str(a.get("observable_kind", ""))
    local = np.asarray(a.get("observable_beads", []), dtype=np.int64).ravel()
    if kind not in KINDS:
        raise InputError(f"dataset has no usable observable_kind ('{kind}').", file=ds.path,
                         key="observable.kind", fix="set 'observable' in the system's mapping YAML.")
    if len(local) != KINDS[kind]:
        raise InputError(f"a {kind} observable needs {KINDS[kind]} beads, got {len(local)}.",
                         file=ds.path, key="observable.beads")
    bpm = int(a["beads_per_molecule"])
    nmol = int(a["n_molecules"])
    if local.max() >= bpm or local.min() < 0:
        raise InputError(f"observable bead indices {local.tolist()} are outside a molecule of {bpm} beads.",
                         file=ds.path, key="observable.beads")
    return (np.arange(nmol, dtype=np.int64)[:, None] * bpm + local[None, :]).astype(np.int64)


def observable_histogram(ds, kind: str, tuples, width: float, *, r_max_nm: float | None = None,
                         chunk: int = 500, stride: int = 1, start: int = 0,
                         stop: int | None = None) -> Histogram:
    """Histogram of ``kind`` over the bead ``tuples`` (global indices) of dataset ``ds``,
    streamed over frames ``start:stop:stride`` in chunks of ``chunk`` frames.

    ``width`` is in nm for bonds and degrees for angles/dihedrals; ``r_max_nm`` sets the bond
    range. Use :attr:`Histogram.density` for the normalised probability density.
    """
    if kind not in KINDS:
        raise InputError(f"unknown observable kind '{kind}'.", key="observable.kind",
                         fix="use one of: bond, angle, dihedral.")
    t = _tuples(tuples, KINDS[kind])
    edges = bin_edges(kind, width, r_max_nm)
    h = Histogram(kind=kind, edges=edges, counts=np.zeros(len(edges) - 1))
    periodic = ds.periodic
    for block in ds.iter_chunks(chunk=chunk, stride=stride, start=start, stop=stop):
        box = block["box"] if periodic else None
        h.add(observable_values(kind, block["positions"], box, t))
        h.n_frames += len(block["positions"])
    return h


def dataset_observable_histogram(ds, width: float, **kw) -> Histogram:
    """:func:`observable_histogram` of the dataset's own observable (``observable_kind``)."""
    return observable_histogram(ds, str(ds.attrs["observable_kind"]), observable_tuples(ds), width, **kw)


def nearest_neighbour_histogram(ds, target_species: int, width_nm: float, r_max_nm: float, *,
                                beads=None, chunk: int = 200, stride: int = 1, start: int = 0,
                                stop: int | None = None) -> Histogram:
    """Histogram of :func:`nearest_neighbour_distances` (nm) over a dataset, streamed."""
    edges = bin_edges("bond", width_nm, r_max_nm)
    h = Histogram(kind="nearest_neighbour", edges=edges, counts=np.zeros(len(edges) - 1))
    species = ds.topology.species
    for block in ds.iter_chunks(chunk=chunk, stride=stride, start=start, stop=stop):
        box = block["box"] if ds.periodic else None
        h.add(nearest_neighbour_distances(block["positions"], box, species, target_species, beads))
        h.n_frames += len(block["positions"])
    return h


# --------------------------------------------------------------------------- CSV
def histogram_frame(h: Histogram):
    """Tidy DataFrame of a histogram: bin centre and density, units in the column names,
    e.g. ``angle_deg,density_per_deg``."""
    import pandas as pd

    xcol, ycol = CSV_COLUMNS[h.kind]
    return pd.DataFrame({xcol: h.centers, ycol: h.density})


def write_distribution_csv(path, h: Histogram) -> None:
    """Write a histogram's density to CSV atomically (columns per :data:`CSV_COLUMNS`)."""
    from ..io import atomic_path

    df = histogram_frame(h)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.8g")


def read_distribution_csv(path):
    """Read a distribution CSV; returns (DataFrame, kind) with kind inferred from the columns."""
    import pandas as pd

    df = pd.read_csv(path)
    for kind, (xcol, ycol) in CSV_COLUMNS.items():
        if list(df.columns[:2]) == [xcol, ycol]:
            return df, kind
    raise InputError(f"unrecognised distribution columns {list(df.columns)}.", file=str(path),
                     fix="regenerate it with mapmatters.analysis.write_distribution_csv.")
