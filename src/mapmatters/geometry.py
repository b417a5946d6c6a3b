"""Periodic-box geometry and bonded coordinates in numpy: the one place they are written.

Bottom of the package: imports numpy and the standard library only.

Units and conventions (GROMACS):

- Lengths in nm, angles in **radians**.
- A *box* is one of

  * ``None``: free space (no periodicity);
  * ``(3,)`` edge lengths of an orthorhombic box;
  * ``(3, 3)`` or ``(F, 3, 3)`` box vectors as **rows** (``box[k]`` is vector a, b, c),
    lower triangular as GROMACS writes it (a along x, b in the xy plane): the restricted
    triclinic form. A per-frame box (F, 3, 3) goes with positions (F, ..., 3).

  A zero edge length (or zero box height ``box[k, k]``) means no periodicity along that
  axis, so an all-zero box (what GROMACS writes for a system in vacuum) is free space.
  An ``(F, 3)`` array of per-frame edge lengths is *not* accepted (it cannot be told apart
  from a (3, 3) box when F = 3): convert it with :func:`diagonal_box`.
- Displacements are ``x_j - x_i`` under the minimum-image convention when a box is given.
- JAX code (MLP models, neighbour lists, MD) uses one orthorhombic side (3,) or ``None``
  (free space, e.g. one molecule in implicit solvent): :func:`box_side` converts, and
  :func:`jax_space` / :func:`jax_minimum_image` are its displacement vocabulary. They import
  jax only when called, so numpy-only users of this module never load it.
- Bonded coordinates (:func:`distances`, :func:`angles`, :func:`dihedrals`,
  :func:`impropers`) take positions (F, N, 3) or (N, 3) and index tuples (K, width), and
  return (F, K) or (K,) accordingly.
"""
from __future__ import annotations

from collections import deque

import numpy as np

__all__ = [
    "angles",
    "as_tuples",
    "box_lengths",
    "box_side",
    "diagonal_box",
    "dihedrals",
    "displacements",
    "distances",
    "impropers",
    "jax_minimum_image",
    "jax_space",
    "make_whole",
    "make_whole_along",
    "minimum_image",
    "spanning_tree_edges",
    "wrap",
]


# ----------------------------------------------------------------------------- boxes
def diagonal_box(lengths) -> np.ndarray:
    """Row-vector boxes (..., 3, 3) of orthorhombic edge lengths (..., 3), nm."""
    L = np.asarray(lengths, dtype=np.float64)
    return L[..., :, None] * np.eye(3)


def box_lengths(box) -> np.ndarray:
    """Edge lengths of orthorhombic boxes: (F, 3, 3) -> (F, 3), (3, 3) -> (1, 3), nm.

    Raises ``ValueError`` for a triclinic box (off-diagonal entries above 1e-6 nm).
    """
    box = np.asarray(box, dtype=float)
    if box.ndim == 2:
        box = box[None]
    diag = np.einsum("fii->fi", box)
    off = box - np.einsum("fi,ij->fij", diag, np.eye(3))
    if np.any(np.abs(off) > 1e-6):
        raise ValueError("only orthorhombic boxes are supported here (the box has off-diagonal terms)")
    return diag


def box_side(box) -> np.ndarray | None:
    """Side lengths (3,) of one orthorhombic box given as a scalar, (3,) or (3, 3); None stays None.

    Raises ``ValueError`` for a triclinic (3, 3) box or another shape. This is the box form
    the JAX code (:func:`jax_space`, the MLP models, MD) takes.
    """
    if box is None:
        return None
    b = np.asarray(box, dtype=np.float64)
    if b.ndim == 0:
        return np.full(3, float(b))
    if b.ndim == 1:
        return b.copy()
    if b.shape == (3, 3):
        if np.abs(b - np.diag(np.diagonal(b))).max() > 1e-6:
            raise ValueError("only orthorhombic boxes are supported (box has off-diagonal terms)")
        return np.diagonal(b).copy()
    raise ValueError(f"bad box shape {b.shape}")


def minimum_image(d: np.ndarray, box) -> np.ndarray:
    """Minimum-image copies of displacement vectors ``d`` (..., 3), nm; returns a new float64 array.

    ``box`` as in the module docstring: ``None`` (returns ``d`` unchanged, as a copy),
    edge lengths (3,), a box (3, 3) of row vectors, or per-frame boxes (F, 3, 3) with ``d``
    of shape (F, ..., 3). For row-vector boxes shifts are removed along c, then b, then a,
    which is exact for rectangular boxes and for GROMACS' restricted triclinic boxes as long
    as the true displacement is shorter than half the shortest box height. Axes of zero
    length are not periodic.
    """
    d = np.array(d, dtype=np.float64, copy=True)
    if box is None:
        return d
    box = np.asarray(box, dtype=np.float64)
    if box.ndim == 1:
        if box.shape != (3,):
            raise ValueError(f"edge lengths must have shape (3,), got {box.shape}")
        if np.all(box > 0):
            return d - box * np.rint(d / box)
        safe = np.where(box > 0, box, 1.0)
        return d - np.where(box > 0, box * np.rint(d / safe), 0.0)
    if box.shape[-2:] != (3, 3) or box.ndim > 3:
        raise ValueError(f"box must be (3,), (3, 3) or (F, 3, 3), got {box.shape}")
    if box.ndim == 3 and (d.ndim < 2 or d.shape[0] != box.shape[0]):
        raise ValueError(f"per-frame boxes {box.shape} need displacements (F, ..., 3), got {d.shape}")
    lead = (box.shape[0],) + (1,) * (d.ndim - 2) if box.ndim == 3 else ()
    for k in (2, 1, 0):
        vec = box[..., k, :]                           # (3,) or (F, 3)
        length = vec[..., k].reshape(lead)             # box height along axis k
        if np.all(length > 0):
            shift = np.rint(d[..., k] / length)
        else:
            shift = np.where(length > 0, np.rint(d[..., k] / np.where(length > 0, length, 1.0)), 0.0)
        d -= shift[..., None] * vec.reshape(lead + (3,))
    return d


def wrap(x: np.ndarray, box) -> np.ndarray:
    """Positions wrapped into the primary cell [0, 1) in fractional coordinates, nm.

    ``x`` (F, N, 3) with ``box`` (F, 3, 3) or (3, 3) row vectors, or ``x`` (N, 3) with a
    (3, 3) box; edge lengths (3,) are turned into a diagonal box. The box must be
    non-singular (wrap only periodic systems).
    """
    x = np.asarray(x, dtype=np.float64)
    box = np.asarray(box, dtype=np.float64)
    if box.ndim == 1:
        box = diagonal_box(box)
    single = x.ndim == 2
    if single:
        x = x[None]
    if box.ndim == 2:
        box = np.broadcast_to(box, (x.shape[0], 3, 3))
    frac = np.einsum("fnj,fjk->fnk", x, np.linalg.inv(box))
    frac -= np.floor(frac)
    out = np.einsum("fnk,fkj->fnj", frac, box)
    return out[0] if single else out


# -------------------------------------------------------------------- whole molecules
def spanning_tree_edges(n_atoms: int, bonds, *, forest: bool = False) -> np.ndarray:
    """Breadth-first spanning tree of a molecule's bond graph: (E, 2) (parent, child) rows.

    ``bonds`` (B, 2) are local atom indices 0..n_atoms-1. The tree is rooted at atom 0 and
    its edges are listed in breadth-first order, so every parent is placed before its
    children (neighbours are visited in increasing index order, so the result is
    deterministic). Raises ``ValueError`` naming the atoms not reachable from atom 0, unless
    ``forest`` is true: then each unreachable component gets its own tree rooted at its
    lowest-numbered atom (those roots are left where they are by :func:`make_whole_along`).
    """
    n_atoms = int(n_atoms)
    b = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    if len(b) and (b.min() < 0 or b.max() >= n_atoms):
        raise ValueError(f"bond indices must lie in 0..{n_atoms - 1}, got {b.min()}..{b.max()}")
    adj: list[set[int]] = [set() for _ in range(n_atoms)]
    for i, j in b:
        if i != j:
            adj[i].add(int(j))
            adj[j].add(int(i))
    seen = np.zeros(n_atoms, dtype=bool)
    edges: list[tuple[int, int]] = []
    for root in range(n_atoms):
        if seen[root]:
            continue
        if root > 0 and not forest:
            missing = np.flatnonzero(~seen)
            raise ValueError(f"the bond graph is not connected: atoms {missing.tolist()} cannot be "
                             "reached from atom 0 along bonds")
        seen[root] = True
        q = deque([root])
        while q:
            a = q.popleft()
            for c in sorted(adj[a]):
                if not seen[c]:
                    seen[c] = True
                    edges.append((a, c))
                    q.append(c)
    return np.asarray(edges, dtype=np.int64).reshape(-1, 2)


def make_whole_along(x: np.ndarray, box, edges: np.ndarray) -> np.ndarray:
    """Positions with each child placed at the minimum image of its parent, edge by edge.

    ``x`` (F, n, 3) (or (F, M, n, 3) for M copies of the molecule, or (n, 3)), nm; ``edges``
    from :func:`spanning_tree_edges` (computed once per molecule type); ``box`` as in
    :func:`minimum_image` (per-frame boxes (F, 3, 3) need a leading frame axis on ``x``).
    Only bond vectors are imaged, so molecules longer than half the box come out whole as
    long as every bond is shorter than half the shortest box height. The root keeps its
    position. Returns a new float64 array; ``box=None`` returns a copy.
    """
    out = np.array(x, dtype=np.float64, copy=True)
    if box is None:
        return out
    for p, c in np.asarray(edges, dtype=np.int64):
        out[..., c, :] = out[..., p, :] + minimum_image(out[..., c, :] - out[..., p, :], box)
    return out


def make_whole(x: np.ndarray, box, bonds, n_atoms: int) -> np.ndarray:
    """Make one molecule whole across periodic boundaries (vectorised over frames).

    ``x`` (F, n_atoms, 3) positions in nm of ONE molecule split across the box; ``bonds``
    (B, 2) local indices. Every atom is placed at the minimum image relative to its parent
    along the breadth-first spanning tree of the bond graph rooted at atom 0 (which stays
    put). Raises ``ValueError`` naming unreachable atoms if the graph is disconnected.
    To make many chunks whole, compute :func:`spanning_tree_edges` once and call
    :func:`make_whole_along`.
    """
    x = np.asarray(x)
    if x.shape[-2] != n_atoms:
        raise ValueError(f"positions have {x.shape[-2]} atoms, expected {n_atoms}")
    return make_whole_along(x, box, spanning_tree_edges(n_atoms, bonds))


# ------------------------------------------------------------------- bonded coordinates
def _frames(x):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        return x[None], True
    if x.ndim != 3 or x.shape[-1] != 3:
        raise ValueError(f"positions must have shape (F, N, 3) or (N, 3), got {x.shape}")
    return x, False


def as_tuples(tuples, width: int) -> np.ndarray:
    """Index tuples as an int64 (K, width) array; a flat list of one tuple is accepted."""
    t = np.asarray(tuples, dtype=np.int64)
    if t.size == 0:
        return np.zeros((0, width), dtype=np.int64)
    t = t.reshape(-1, width) if t.ndim == 1 else t
    if t.ndim != 2 or t.shape[1] != width:
        raise ValueError(f"expected index tuples of width {width}, got shape {t.shape}")
    return t


def _box_for(box, n_frames: int):
    """``box`` ready for (F, K, 3) displacements: None, (3,) or (F, 3, 3)."""
    if box is None:
        return None
    b = np.asarray(box, dtype=np.float64)
    if b.ndim == 1:
        return b
    if b.ndim == 2:
        b = b[None]
    return np.broadcast_to(b, (n_frames, 3, 3))


def displacements(x: np.ndarray, i, j, box=None) -> np.ndarray:
    """Vectors x_j - x_i (F, K, 3), nm, minimum image when ``box`` is given.

    ``x`` (F, N, 3); ``i``, ``j`` (K,) atom indices; ``box`` None, (3,), (3, 3) or (F, 3, 3).
    """
    d = x[:, j] - x[:, i]
    b = _box_for(box, x.shape[0])
    return d if b is None else minimum_image(d, b)


def distances(x: np.ndarray, pairs, box=None) -> np.ndarray:
    """|x_j - x_i| in nm for pairs (K, 2) [i, j]; (F, K) for (F, N, 3) positions, (K,) for (N, 3)."""
    x, single = _frames(x)
    p = as_tuples(pairs, 2)
    r = np.linalg.norm(displacements(x, p[:, 0], p[:, 1], box), axis=-1)
    return r[0] if single else r


def angles(x: np.ndarray, triples, box=None) -> np.ndarray:
    """Angles i-j-k at the vertex j, in radians in [0, pi], for triples (K, 3).

    Computed as atan2(|u x v|, u . v) with u = x_i - x_j, v = x_k - x_j, which is accurate
    near 0 and pi (unlike arccos). Shapes as :func:`distances`.
    """
    x, single = _frames(x)
    t = as_tuples(triples, 3)
    u = displacements(x, t[:, 1], t[:, 0], box)
    v = displacements(x, t[:, 1], t[:, 2], box)
    cross = np.linalg.norm(np.cross(u, v), axis=-1)
    dot = np.einsum("fki,fki->fk", u, v)
    a = np.arctan2(cross, dot)
    return a[0] if single else a


def dihedrals(x: np.ndarray, quads, box=None) -> np.ndarray:
    """Dihedral angles i-j-k-l in radians in [-pi, pi], for quadruples (K, 4).

    IUPAC/IUB sign convention, as GROMACS and ``mdtraj.compute_dihedrals``: cis = 0,
    trans = +-pi, positive when, looking along j -> k, the far bond k-l is rotated clockwise
    from the near bond j-i. With b1 = x_j - x_i, b2 = x_k - x_j, b3 = x_l - x_k,
    n1 = b1 x b2, n2 = b2 x b3: phi = atan2(|b2| b1 . n2, n1 . n2). (VOTCA and LAMMPS
    ``dihedral_style table`` use the same angle, mod 2 pi.) Shapes as :func:`distances`.
    """
    x, single = _frames(x)
    q = as_tuples(quads, 4)
    b1 = displacements(x, q[:, 0], q[:, 1], box)
    b2 = displacements(x, q[:, 1], q[:, 2], box)
    b3 = displacements(x, q[:, 2], q[:, 3], box)
    n1 = np.cross(b1, b2)
    n2 = np.cross(b2, b3)
    y = np.linalg.norm(b2, axis=-1) * np.einsum("fki,fki->fk", b1, n2)
    xx = np.einsum("fki,fki->fk", n1, n2)
    phi = np.arctan2(y, xx)
    return phi[0] if single else phi


def impropers(x: np.ndarray, quads, box=None) -> np.ndarray:
    """Improper dihedrals (radians, [-pi, pi]): the :func:`dihedrals` of the ordered quadruple.

    No atom is singled out by the function: the value is the IUPAC dihedral of the
    quadruple exactly as given, so the convention lives in how the quadruple is spelled.
    For a chirality improper written N-CA-CB-C the central atom is the *second* one (CA,
    bonded to N, CB and C): the angle is the rotation about CA -> CB between N and C, about
    +-120 degrees, and its sign flips between the two enantiomers. (For a GROMACS/CHARMM
    improper listed centre-first, i-j-k-l with i central, pass the quadruple in that order.)
    """
    return dihedrals(x, quads, box)


# ------------------------------------------------------------------------------- JAX
def jax_space(box):
    """jax-md's ``(displacement_fn, shift_fn)`` for free space or an orthorhombic box (nm).

    ``box`` None gives ``jax_md.space.free()`` (no periodicity: single molecules, implicit
    solvent); anything :func:`box_side` accepts gives ``jax_md.space.periodic(side)``. Use it
    for jax-md neighbour lists and integrators; jax-md's displacement functions take one pair
    of vectors (vmap them), while :func:`jax_minimum_image` works on arrays of displacements.
    """
    from jax_md import space

    side = box_side(box)
    return space.free() if side is None else space.periodic(side)


def jax_minimum_image(d, side):
    """Minimum-image displacements ``d - side * round(d / side)`` in JAX (differentiable).

    ``d`` (..., 3) jax or numpy array; ``side`` (3,) orthorhombic box sides (broadcastable)
    or ``None`` for free space (``d`` returned unchanged). Same numbers as
    :func:`minimum_image` with edge lengths, but traceable inside ``jax.jit``/``grad``.
    """
    if side is None:
        return d
    import jax.numpy as jnp

    return d - side * jnp.round(d / side)
