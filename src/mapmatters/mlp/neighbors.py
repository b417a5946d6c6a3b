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
        d = R[:, :, None, :] - R[:, None, :, :]
        if side is not None:
            d = d - side * jnp.round(d / side)
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
