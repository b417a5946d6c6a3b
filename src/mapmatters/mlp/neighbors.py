"""Neighbour lists sized over a whole dataset, and overflow checks.

chemtrain's ForceMatching builds each frame's list with ``nbrs_init.update(R)`` and never
checks overflow (its docs say so): a list that is too small silently drops edges. We count
the edges within ``r_cut`` in every frame (minimum image for orthorhombic boxes), allocate
``ceil(max_edges * margin)`` slots, and :func:`check_overflow` re-counts on any batch.

(chemtrain's own ``allocate_neighborlist`` does the counting too, but goes through
jax_md_mod's masked list with fractional coordinates; counting pairs directly is a few lines
and gives the same numbers for our unmasked systems.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..geometry import jax_minimum_image, minimum_image


@dataclass
class NeighborStats:
    max_edges: int          # largest number of directed edges (i != j, d < r_cut) in a frame
    avg_neighbors: float    # mean neighbours per bead over all frames
    max_neighbors: int      # largest neighbour count of one bead
    n_frames: int


def count_edges(positions, box_side, r_cut: float, batch: int = 64) -> NeighborStats:
    """Edge statistics within ``r_cut`` (nm) over frames ``positions`` (F, N, 3)."""
    import jax
    import jax.numpy as jnp

    side = None if box_side is None else jnp.asarray(box_side, dtype=jnp.float32)

    @jax.jit
    def counts(R):
        d = jax_minimum_image(R[:, :, None, :] - R[:, None, :, :], side)
        r2 = jnp.sum(d * d, axis=-1)
        n = R.shape[1]
        within = (r2 < r_cut * r_cut) & ~jnp.eye(n, dtype=bool)[None]
        per_bead = within.sum(axis=-1)
        return per_bead.sum(axis=-1), per_bead.max(axis=-1)

    positions = np.asarray(positions)
    tot, mx = [], []
    for s in range(0, len(positions), batch):
        chunk = positions[s:s + batch]
        pad = batch - len(chunk)
        if pad:  # keep one compiled shape
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        t, m = counts(jnp.asarray(chunk, dtype=jnp.float32))
        tot.append(np.asarray(t)[:batch - pad])
        mx.append(np.asarray(m)[:batch - pad])
    tot = np.concatenate(tot)
    mx = np.concatenate(mx)
    n = positions.shape[1]
    return NeighborStats(max_edges=int(tot.max()), avg_neighbors=float(tot.mean() / n),
                         max_neighbors=int(mx.max()), n_frames=len(positions))


def allocate(neighbor_fn, R0, capacity: int):
    """A sparse jax-md neighbour list with exactly ``capacity`` edge slots, built at ``R0``."""
    import jax.numpy as jnp

    R0 = jnp.asarray(R0)
    nbrs = neighbor_fn.allocate(R0)
    nbrs = replace(nbrs, max_occupancy=int(capacity))
    return nbrs.update(R0)


def capacity_for(stats: NeighborStats, margin: float = 1.2, minimum: int = 16) -> int:
    return max(minimum, int(math.ceil(stats.max_edges * margin)))


def overflowed(nbrs) -> bool:
    """Whether a (possibly vmapped) jax-md neighbour list overflowed."""
    return bool(np.any(np.asarray(nbrs.did_buffer_overflow)))


def r_cut_for_n_avg(positions, box_side, n_avg: float, *, r_max: float | None = None,
                    tol: float = 1e-4) -> float:
    """The cut-off (nm) at which beads have ``n_avg`` neighbours on average over ``positions``.

    Table 1 of the paper sets the cut-off through the mean neighbour number N_avg; here it is
    measured on the data the model is trained on: the mean over frames and beads of the
    number of other beads within r (minimum image in a periodic box) is increasing in r, so
    bisection finds the r where it reaches ``n_avg``. In a periodic box r stays below half
    the shortest edge (minimum image); ``r_max`` caps the search otherwise.
    """
    positions = np.asarray(positions, dtype=np.float64)
    n = positions.shape[1]
    if not 0 < n_avg < n - 1:
        raise ValueError(f"n_avg must be between 0 and {n - 1} (beads - 1), not {n_avg}")
    side = None if box_side is None else np.asarray(box_side, dtype=np.float64)
    hi = 0.5 * float(np.min(side)) if side is not None else float(r_max or 5.0)
    if r_max is not None:
        hi = min(hi, float(r_max))
    # every pair distance once (frames are few: this is a set-up step)
    dists = []
    iu = np.triu_indices(n, 1)
    for x in positions:
        d = minimum_image(x[iu[0]] - x[iu[1]], side)
        dists.append(np.sqrt(np.sum(d * d, axis=-1)))
    r_sorted = np.sort(np.concatenate(dists))
    n_frames = len(positions)

    def mean_neighbours(r):
        return 2.0 * np.searchsorted(r_sorted, r) / (n_frames * n)

    if mean_neighbours(hi) < n_avg:
        raise ValueError(f"n_avg {n_avg} needs a cut-off beyond {hi:.3f} nm (half the box); "
                         "lower n_avg or use a larger box")
    lo = 0.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mean_neighbours(mid) < n_avg else (lo, mid)
    return round(hi, 4)
