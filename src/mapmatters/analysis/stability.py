"""Stability of a CG run: from which time on its frames no longer count.

One analysis, chosen per system (``stability`` in the system YAML), applied in the same way to
classical (LAMMPS) and MLP (JAX-MD) runs; the engines only stop a run that has blown up.

- **bulk** (liquids, the paper's hexane criterion): unstable from the first frame whose kinetic
  energy per degree of freedom, k_B T, exceeds ``max_kT_kJ_mol`` (5 kJ/mol, i.e. T > 601 K) or
  is not finite.
- **molecular** (peptides; the authors checked the backbone bonds C_ACE-N, N-CA, CA-C, C-N_NME):
  unstable from the first frame where any CG bond deviates by more than
  ``max_bond_deviation_nm`` (0.05 nm) from its mean over the mapped reference, or where a
  position is not finite.

The frame at the unstable time and every later one are dropped from the analyses.
"""
from __future__ import annotations

import numpy as np

from ..geometry import distances


def first_bad(bad: np.ndarray) -> int:
    """Index of the first True of a 1-D mask, or its length when there is none."""
    bad = np.asarray(bad, bool)
    return int(np.argmax(bad)) if bad.any() else len(bad)


def bulk_first_unstable(kT: np.ndarray, max_kT: float) -> int:
    """First frame with k_B T > ``max_kT`` (kJ/mol) or not finite; len(kT) when stable."""
    kT = np.asarray(kT, float)
    return first_bad(~np.isfinite(kT) | (kT > max_kT))


def reference_bond_lengths(dataset, bonds: np.ndarray | None = None, stride: int = 1, chunk: int = 1000) -> np.ndarray:
    """Mean length (nm) of every CG bond over a mapped reference dataset (``CGDataset``)."""
    bonds = dataset.topology.bonds if bonds is None else np.asarray(bonds)
    total, n = np.zeros(len(bonds)), 0
    for c in dataset.iter_chunks(chunk=chunk, stride=stride):
        box = c["box"] if dataset.periodic else None
        d = distances(c["positions"].astype(np.float64), bonds, box)
        total += d.sum(axis=0)
        n += len(d)
    if n == 0:
        raise ValueError(f"{dataset.path}: no frame to take reference bond lengths from")
    return total / n


def criterion_bonds(criterion: dict, dataset_path) -> tuple:
    """(bonds (B, 2), reference lengths (B,) nm) that ``criterion`` watches: for the molecular one
    every CG bond of the mapped reference ``dataset_path`` and its mean length there; for the
    bulk one (None, None)."""
    if criterion["criterion"] != "molecular":
        return None, None
    from ..cgdata import CGDataset

    with CGDataset(dataset_path) as ds:
        return ds.topology.bonds, reference_bond_lengths(ds)


def molecular_first_unstable(positions: np.ndarray, bonds: np.ndarray, reference_nm: np.ndarray,
                             max_deviation_nm: float, box: np.ndarray | None = None) -> int:
    """First frame where some bond deviates from its reference length by more than
    ``max_deviation_nm`` (or a position is not finite); len(positions) when stable.

    ``positions`` (F, N, 3) nm; ``bonds`` (B, 2); ``reference_nm`` (B,); ``box`` (F, 3, 3) or None.
    """
    x = np.asarray(positions, np.float64)
    if len(bonds) == 0:
        return first_bad(~np.isfinite(x).all(axis=(1, 2)))
    with np.errstate(invalid="ignore"):
        d = distances(x, bonds, box)
        bad = ~np.isfinite(d).all(axis=1) | (np.abs(d - reference_nm[None, :]) > max_deviation_nm).any(axis=1)
    return first_bad(bad | ~np.isfinite(x).all(axis=(1, 2)))


def first_unstable_frame(criterion: dict, *, kT=None, positions=None, bonds=None, reference_nm=None,
                         box=None) -> int:
    """First frame of one run that ``criterion`` (the system's ``stability`` block) calls unstable
    (``kT`` (F,) for the bulk criterion, ``positions`` (F, N, 3) for the molecular one); the
    number of frames when there is none."""
    kind = criterion["criterion"]
    if kind == "bulk":
        return bulk_first_unstable(kT, float(criterion["max_kT_kJ_mol"]))
    if kind == "molecular":
        return molecular_first_unstable(positions, np.asarray(bonds).reshape(-1, 2), np.asarray(reference_nm, float),
                                        float(criterion["max_bond_deviation_nm"]), box)
    raise ValueError(f"unknown stability criterion {kind!r}")


def intact_mask(criterion: dict, *, kT=None, positions=None, bonds=None, reference_nm=None,
                box=None) -> np.ndarray:
    """(F, W) bool: frame f of walker (chain, window) w counts, i.e. the run has been stable under
    ``criterion`` up to and including f. ``kT`` (F, W) for the bulk criterion, ``positions``
    (F, W, N, 3) nm for the molecular one; ``box``: the orthorhombic side (3,) nm of a periodic
    system, None in free space. Biased runs (metadynamics, umbrella windows) use it to drop what
    a model does after its molecule fell apart."""
    arr = kT if criterion["criterion"] == "bulk" else positions
    if arr is None:
        raise ValueError(f"the {criterion['criterion']} stability criterion needs "
                         f"{'kT' if criterion['criterion'] == 'bulk' else 'positions'} per frame")
    arr = np.asarray(arr)
    F_, W = arr.shape[:2]
    box_f = None if box is None or not len(box) else np.broadcast_to(np.diag(np.asarray(box, float)), (F_, 3, 3))
    mask = np.zeros((F_, W), bool)
    for w in range(W):
        k = first_unstable_frame(criterion, kT=arr[:, w] if criterion["criterion"] == "bulk" else None,
                                 positions=arr[:, w] if criterion["criterion"] == "molecular" else None,
                                 bonds=bonds, reference_nm=reference_nm, box=box_f)
        mask[:k, w] = True
    return mask


def chains_left(criterion: dict, *, kT=None, positions=None, bonds=None, reference_nm=None,
                box=None) -> np.ndarray:
    """(C,) bool: which chains are unstable under ``criterion`` at some frame of a stretch of
    their run, ``kT`` (C, F) or ``positions`` (C, F, N, 3) nm. Frames from the first unstable one
    on are dropped from every analysis, so an engine may stop simulating such a chain (the
    JAX-MD loop's ``stop_rule``, :func:`mapmatters.simulate.md.run`). ``box`` as for
    :func:`intact_mask`, whose last frame this is."""
    return ~intact_mask(criterion, kT=None if kT is None else np.swapaxes(kT, 0, 1),
                        positions=None if positions is None else np.swapaxes(positions, 0, 1),
                        bonds=bonds, reference_nm=reference_nm, box=box)[-1]


def stop_rule(criterion: dict, bonds=None, reference_nm=None, box=None):
    """The JAX-MD loop's ``stop_rule`` (:func:`mapmatters.simulate.md.run`) for a system's
    ``criterion``: given a chunk's ``kT`` (C, F) and ``positions`` (C, F, N, 3), the chains that
    left it (:func:`chains_left`); ``bonds`` and ``reference_nm`` for the molecular criterion
    (:func:`criterion_bonds`)."""
    def rule(rec: dict) -> np.ndarray:
        return chains_left(criterion, kT=rec["kT"], positions=rec["positions"], bonds=bonds,
                           reference_nm=reference_nm, box=box)
    return rule


def stable_time(criterion: dict, time_ps: np.ndarray, *, kT=None, positions=None, bonds=None,
                reference_nm=None, box=None, length_ps: float, completed: bool = True) -> dict:
    """Stable time of one run under ``criterion`` (the system's ``stability`` block).

    ``time_ps`` are the times of the frames (and of ``kT``, for the bulk criterion, or of
    ``positions``, for the molecular one). A stable run that ``completed`` its ``length_ps``
    is stable for the whole length; a run the engine stopped early is stable up to its last
    frame. Returns {stable_ps, first_unstable_frame (None if stable), criterion}.
    """
    t = np.asarray(time_ps, float)
    k = first_unstable_frame(criterion, kT=kT, positions=positions, bonds=bonds, reference_nm=reference_nm, box=box)
    if k < len(t):
        stable = float(t[k])
    elif completed:
        stable = float(length_ps)
    else:
        stable = float(t[-1]) if len(t) else 0.0
    return {"stable_ps": stable, "first_unstable_frame": None if k >= len(t) else int(k),
            "criterion": dict(criterion)}
