"""Analytic CG potentials in JAX on jax-md sparse neighbour lists (tests, sanity baselines).

``harmonic_bonds_soft_repulsion``: E = sum_bonds k_b/2 (r - r0)^2
                                   + sum_{non-bonded pairs, r < sigma} eps (1 - r/sigma)^2
The pair term is smooth at sigma (value and first derivative vanish), so NVE conserves
energy; bonded pairs are excluded from the pair term. :func:`numpy_forces` gives the same
forces in numpy (analytic, no autodiff) to make synthetic force-matching data.
"""
from __future__ import annotations

import numpy as np

from ..geometry import jax_minimum_image, minimum_image


def _min_image(d, box):
    """Numpy minimum image for an orthorhombic side (3,) or None (free space)."""
    return minimum_image(d, None if box is None else np.asarray(box, np.float64))


def harmonic_bonds_soft_repulsion(bonds, n, box=None, k_b=2000.0, r0=0.2, eps=5.0, sigma=0.45):
    """``energy_fn(R, neighbor=nbrs)`` (kJ/mol, nm) for ``n`` beads; ``box`` (3,) or None."""
    import jax.numpy as jnp

    bonds = np.asarray(bonds, np.int32).reshape(-1, 2)
    excl = np.zeros((n + 1, n + 1), bool)  # row/col n = jax-md padding index
    excl[bonds[:, 0], bonds[:, 1]] = excl[bonds[:, 1], bonds[:, 0]] = True
    excl_j = jnp.asarray(excl)
    bi, bj = jnp.asarray(bonds[:, 0]), jnp.asarray(bonds[:, 1])
    box_j = None if box is None else jnp.asarray(box, jnp.float32)

    def disp(d):
        return jax_minimum_image(d, box_j)

    def energy_fn(R, neighbor=None, **unused):
        db = disp(R[bi] - R[bj])
        rb = jnp.sqrt(jnp.sum(db * db, axis=-1))
        e_bond = 0.5 * k_b * jnp.sum((rb - r0) ** 2)
        i, j = neighbor.idx[0], neighbor.idx[1]
        valid = (i < n) & (j < n) & ~excl_j[i, j]
        Rp = jnp.concatenate([R, jnp.zeros((1, 3), R.dtype)])
        d = disp(Rp[i] - Rp[j])
        r2 = jnp.sum(d * d, axis=-1)
        r = jnp.sqrt(jnp.where(valid, r2, 1.0))
        pair = jnp.where(valid & (r < sigma), eps * (1.0 - r / sigma) ** 2, 0.0)
        return e_bond + 0.5 * jnp.sum(pair)  # each pair appears twice in the sparse list

    return energy_fn


def numpy_forces(R, bonds, box=None, k_b=2000.0, r0=0.2, eps=5.0, sigma=0.45):
    """Analytic forces (kJ/mol/nm) of :func:`harmonic_bonds_soft_repulsion` for one frame."""
    R = np.asarray(R, np.float64)
    n = len(R)
    bonds = np.asarray(bonds, int).reshape(-1, 2)
    F = np.zeros_like(R)
    d = _min_image(R[bonds[:, 0]] - R[bonds[:, 1]], box)
    r = np.linalg.norm(d, axis=-1)
    fmag = -k_b * (r - r0)  # force on i along d/r
    fi = (fmag / r)[:, None] * d
    np.add.at(F, bonds[:, 0], fi)
    np.add.at(F, bonds[:, 1], -fi)
    excl = np.zeros((n, n), bool)
    excl[bonds[:, 0], bonds[:, 1]] = excl[bonds[:, 1], bonds[:, 0]] = True
    dd = _min_image(R[:, None, :] - R[None, :, :], box)
    rr = np.linalg.norm(dd, axis=-1)
    np.fill_diagonal(rr, np.inf)
    m = (rr < sigma) & ~excl
    # E_pair = eps (1 - r/s)^2 ; -dE/dr = 2 eps (1 - r/s) / s
    mag = np.where(m, 2 * eps * (1 - rr / sigma) / sigma, 0.0)
    F += np.sum((mag / np.where(m, rr, 1.0))[:, :, None] * dd, axis=1)
    return F


def synthetic_dimers(n_frames: int, n_mol: int = 12, box: float = 1.6, r0: float = 0.2,
                     bond_sd: float = 0.015, min_nonbonded: float = 0.3, seed: int = 0,
                     **pot):
    """Random configurations of A-B dimers in a cubic box with analytic forces.

    Non-bonded pairs are kept at least ``min_nonbonded`` apart (rejection sampling) and bonds
    stay near ``r0``, so the potential is a function of pair distances only and a
    distance-based model can learn it exactly. Returns dict R (F, N, 3), F, box (3,),
    species (N,), masses (N,), bonds (B, 2) with ``pot`` passed to :func:`numpy_forces`.
    """
    rng = np.random.default_rng(seed)
    n = 2 * n_mol
    side = np.full(3, box)
    bonds = np.stack([np.arange(0, n, 2), np.arange(1, n, 2)], axis=1)
    kw = dict(r0=r0, **pot)
    Rs, Fs = [], []
    while len(Rs) < n_frames:
        R = np.zeros((n, 3))
        ok = True
        for m in range(n_mol):
            for _ in range(200):
                c = rng.uniform(0, box, 3)
                u = rng.normal(size=3)
                u /= np.linalg.norm(u)
                b = r0 + bond_sd * rng.normal()
                a, bb = c - 0.5 * b * u, c + 0.5 * b * u
                if m == 0:
                    break
                prev = R[:2 * m]
                dd = _min_image(np.concatenate([a[None], bb[None]])[:, None] - prev[None], side)
                if np.linalg.norm(dd, axis=-1).min() >= min_nonbonded:
                    break
            else:
                ok = False
            R[2 * m], R[2 * m + 1] = a, bb
        if not ok:
            continue
        R = np.mod(R, side)
        Rs.append(R)
        Fs.append(numpy_forces(R, bonds, side, **kw))
    return {"R": np.asarray(Rs, np.float32), "F": np.asarray(Fs, np.float32), "box": side,
            "species": np.tile([0, 1], n_mol).astype(np.int32),
            "masses": np.tile([15.0, 14.0], n_mol).astype(np.float64), "bonds": bonds}
