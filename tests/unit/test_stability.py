"""Stability as an analysis: the bulk criterion on a synthetic blow-up, the molecular criterion on
a hand-built chain whose bond stretches, and the same function for classical and MLP runs."""
import numpy as np
import pytest

from mapmatters.analysis.stability import (
    bulk_first_unstable,
    chains_left,
    intact_mask,
    molecular_first_unstable,
    stable_time,
)
from mapmatters.units import KB_KJ_MOL_K

BULK = {"criterion": "bulk", "max_kT_kJ_mol": 5.0}
MOLECULAR = {"criterion": "molecular", "max_bond_deviation_nm": 0.05}


def test_bulk_criterion_on_a_synthetic_blow_up():
    # kB T > 5 kJ/mol  <=>  T > 5 / kB = 601.4 K; the run "explodes" at 3.0 ps
    t = np.arange(0, 5.01, 0.5)
    temp = np.full(len(t), 300.0)
    temp[t >= 3.0] = [650.0, 2000.0, 1e5, 1e6, 1e7][: int((t >= 3.0).sum())]
    assert 5.0 / KB_KJ_MOL_K == pytest.approx(601.36, abs=0.01)
    st = stable_time(BULK, t, kT=KB_KJ_MOL_K * temp, length_ps=5.0)
    assert st["stable_ps"] == pytest.approx(3.0) and st["first_unstable_frame"] == 6
    # a hot but sub-threshold run (kB T = 4.99 kJ/mol) that completed is stable for its length
    calm = stable_time(BULK, t, kT=np.full(len(t), 4.99), length_ps=5.0)
    assert calm["stable_ps"] == 5.0 and calm["first_unstable_frame"] is None
    assert bulk_first_unstable([1.0, np.nan, 1.0], 5.0) == 1          # not finite = blown up
    # stopped early by the engine (LAMMPS table error) without a hot frame: stable to its last frame
    early = stable_time(BULK, t[:4], kT=np.full(4, 2.5), length_ps=5.0, completed=False)
    assert early["stable_ps"] == pytest.approx(1.5)


def chain(n_frames, stretch_at=None, by=0.0):
    """A 4-bead zig-zag chain with 0.15 nm bonds; from frame ``stretch_at`` the last bond grows by ``by``."""
    base = np.array([[0.0, 0.0, 0.0], [0.15, 0.0, 0.0], [0.15, 0.15, 0.0], [0.30, 0.15, 0.0]])
    x = np.repeat(base[None], n_frames, axis=0)
    if stretch_at is not None:
        x[stretch_at:, 3, 0] += by
    return x


def test_molecular_criterion_on_a_stretched_bond():
    bonds = np.array([[0, 1], [1, 2], [2, 3]])
    ref = np.full(3, 0.15)
    assert molecular_first_unstable(chain(10), bonds, ref, 0.05) == 10
    assert molecular_first_unstable(chain(10, 4, 0.049), bonds, ref, 0.05) == 10   # 0.049 nm: still bonded
    assert molecular_first_unstable(chain(10, 4, 0.051), bonds, ref, 0.05) == 4
    # compressed bonds count too (|d - d_ref|), and so does a non-finite position
    assert molecular_first_unstable(chain(10, 7, -0.06), bonds, ref, 0.05) == 7
    x = chain(10)
    x[2, 0, 0] = np.nan
    assert molecular_first_unstable(x, bonds, ref, 0.05) == 2
    t = 0.5 * np.arange(1, 11)
    st = stable_time(MOLECULAR, t, positions=chain(10, 4, 0.2), bonds=bonds, reference_nm=ref, length_ps=5.0)
    assert st["stable_ps"] == pytest.approx(2.5) and st["criterion"] == MOLECULAR


def test_molecular_criterion_uses_the_minimum_image_in_a_box():
    bonds = np.array([[0, 1]])
    x = np.array([[[0.02, 1.0, 1.0], [1.97, 1.0, 1.0]]])      # 0.05 nm apart across the x face of a 2 nm box
    box = np.diag([2.0, 2.0, 2.0])[None]
    assert molecular_first_unstable(x, bonds, np.array([0.05]), 0.05, box) == 1
    assert molecular_first_unstable(x, bonds, np.array([0.05]), 0.05, None) == 0


def test_intact_mask_per_walker():
    """Biased runs (metadynamics walkers, umbrella windows): frame f of walker w counts while the
    walker has been stable up to f; one walker's break does not touch the others."""
    bonds = np.array([[0, 1], [1, 2], [2, 3]])
    ref = np.full(3, 0.15)
    pos = np.stack([chain(6), chain(6, 2, 0.3), chain(6, 5, -0.1)], axis=1)       # (F, W, N, 3)
    m = intact_mask(MOLECULAR, positions=pos, bonds=bonds, reference_nm=ref)
    assert m.shape == (6, 3)
    assert m[:, 0].all() and m[:, 1].tolist() == [True, True] + [False] * 4
    assert m[:, 2].tolist() == [True] * 5 + [False]
    # a stretched bond that relaxes again does not make the later frames count
    pos[4:, 1] = chain(2)
    assert (intact_mask(MOLECULAR, positions=pos, bonds=bonds, reference_nm=ref)[:, 1] == m[:, 1]).all()
    kT = np.array([[2.5, 2.5], [2.5, 6.0], [2.5, 2.5]])
    assert intact_mask(BULK, kT=kT).tolist() == [[True, True], [True, False], [True, False]]
    with pytest.raises(ValueError, match="needs positions"):
        intact_mask(MOLECULAR, kT=kT)


def test_chains_left_a_stretch_of_their_runs():
    """What the JAX-MD loop asks after each chunk (its stop_rule): which chains were unstable at
    some frame of the chunk, arrays (C, F, ...) in the engine's chain-major order."""
    bonds = np.array([[0, 1], [1, 2], [2, 3]])
    ref = np.full(3, 0.15)
    pos = np.stack([chain(4), chain(4, 3, 0.06), chain(4, 1, -0.06)])            # (C, F, N, 3)
    assert chains_left(MOLECULAR, positions=pos, bonds=bonds, reference_nm=ref).tolist() == [False, True, True]
    kT = np.array([[2.5, 2.6, 2.4], [2.5, 5.1, 2.5], [2.5, np.nan, 2.5]])      # (C, F)
    assert chains_left(BULK, kT=kT).tolist() == [False, True, True]
    # in a periodic box the bonds are measured as minimum images: 0.05 nm across the x face
    x = np.array([[[[0.02, 1.0, 1.0], [1.97, 1.0, 1.0]]]])                    # (1, 1, 2, 3)
    assert not chains_left(MOLECULAR, positions=x, bonds=np.array([[0, 1]]), reference_nm=np.array([0.05]),
                           box=np.array([2.0, 2.0, 2.0]))[0]
    assert chains_left(MOLECULAR, positions=x, bonds=np.array([[0, 1]]), reference_nm=np.array([0.05]))[0]
