"""mapmatters.geometry (minimum image, wrap, whole molecules, bonded coordinates) and
mapmatters.units (constants against scipy.constants)."""
import math

import numpy as np
import pytest

from mapmatters import geometry as G
from mapmatters import units

TRICLINIC = np.array([[4.0, 0.0, 0.0],
                      [1.0, 3.0, 0.0],
                      [0.5, 0.5, 3.0]])


# ------------------------------------------------------------------ minimum image, wrap
def test_minimum_image_rectangular_all_box_forms():
    d = np.array([[[1.5, -2.0, 2.5]]])
    want = [[[-0.5, 1.0, -1.5]]]
    for box in (np.array([2.0, 3.0, 4.0]), np.diag([2.0, 3.0, 4.0]), np.diag([2.0, 3.0, 4.0])[None]):
        np.testing.assert_allclose(G.minimum_image(d, box), want)
    np.testing.assert_array_equal(G.minimum_image(d, None), d)
    # a zero edge means no periodicity along that axis; an all-zero box is free space
    np.testing.assert_allclose(G.minimum_image(d, np.array([2.0, 0.0, 4.0])), [[[-0.5, -2.0, -1.5]]])
    np.testing.assert_array_equal(G.minimum_image(d, np.zeros((1, 3, 3))), d)


def test_minimum_image_triclinic_hand_values():
    d = np.array([[[3.8, 2.9, 0.2], [0.6, 0.6, 2.9]]])
    # c: no shift / one c; b: one b; a: one a
    want = [[[-1.2, -0.1, 0.2], [0.1, 0.1, -0.1]]]
    np.testing.assert_allclose(G.minimum_image(d, TRICLINIC[None]), want, atol=1e-12)
    np.testing.assert_allclose(G.minimum_image(d[0], TRICLINIC), want[0], atol=1e-12)


def _old_engine_minimum_image(d, box):  # the body mapping/engine.py had before the move
    d = np.array(d, dtype=np.float64, copy=True)
    box = np.asarray(box, dtype=np.float64)
    for k in (2, 1, 0):
        vec = box[:, k, :]
        length = vec[:, k]
        shift = np.rint(d[..., k] / length[:, None])
        d -= shift[..., None] * vec[:, None, :]
    return d


def _old_engine_wrap(x, box):
    box = np.asarray(box, dtype=np.float64)
    frac = np.einsum("fnj,fjk->fnk", x, np.linalg.inv(box))
    frac -= np.floor(frac)
    return np.einsum("fnk,fkj->fnj", frac, box)


def test_minimum_image_and_wrap_bit_identical_to_the_engine_versions():
    from mapmatters.mapping import engine

    rng = np.random.default_rng(3)
    box = np.broadcast_to(TRICLINIC, (5, 3, 3)) * rng.uniform(0.9, 1.1, (5, 1, 1))
    d = rng.uniform(-7, 7, (5, 40, 3))
    assert engine.minimum_image is G.minimum_image and engine.wrap is G.wrap
    np.testing.assert_array_equal(G.minimum_image(d, box), _old_engine_minimum_image(d, box))
    np.testing.assert_array_equal(G.wrap(d, box), _old_engine_wrap(d, box))


def test_wrap_rectangular_and_triclinic():
    np.testing.assert_allclose(G.wrap(np.array([[[2.5, -0.5, 1.0]]]), np.diag([2.0, 2.0, 2.0])[None]),
                               [[[0.5, 1.5, 1.0]]])
    np.testing.assert_allclose(G.wrap(np.array([[2.5, -0.5, 1.0]]), np.array([2.0, 2.0, 2.0])),
                               [[0.5, 1.5, 1.0]])
    p = np.array([0.2, 0.1, 0.3])                      # inside the triclinic cell
    x = np.array([[p + TRICLINIC[1] - 2 * TRICLINIC[2], p - TRICLINIC[0] + 3 * TRICLINIC[1]]])
    np.testing.assert_allclose(G.wrap(x, TRICLINIC[None]), [[p, p]], atol=1e-12)
    w = G.wrap(np.random.default_rng(0).uniform(-20, 20, (2, 50, 3)), TRICLINIC)
    frac = w @ np.linalg.inv(TRICLINIC)
    assert frac.min() >= 0 and frac.max() < 1


# ------------------------------------------------------------------------ make_whole
def test_make_whole_four_atom_chain_across_a_face():
    true = np.array([[1.7, 0.5, 0.5], [1.9, 0.5, 0.5], [2.1, 0.5, 0.5], [2.3, 0.5, 0.5]])
    split = true.copy()
    split[2:, 0] -= 2.0                                 # atoms 2, 3 wrapped to x = 0.1, 0.3
    bonds = [(0, 1), (1, 2), (2, 3)]
    for box in (np.array([2.0, 2.0, 2.0]), np.eye(3) * 2.0, (np.eye(3) * 2.0)[None]):
        np.testing.assert_allclose(G.make_whole(split[None], box, bonds, 4), true[None], atol=1e-12)
    np.testing.assert_array_equal(G.make_whole(split[None], None, bonds, 4), split[None])
    # bond order and direction in the bond list do not matter
    np.testing.assert_allclose(G.make_whole(split[None], np.eye(3) * 2, [(3, 2), (1, 0), (2, 1)], 4),
                               true[None], atol=1e-12)


def _zigzag(n=40, length=5.0):
    x = np.zeros((n, 3))
    x[:, 0] = np.linspace(0.0, length, n)
    x[1::2, 1] = 0.08
    return x


@pytest.mark.parametrize("boxes", ["cubic", "triclinic"])
def test_make_whole_chain_longer_than_half_the_box(boxes):
    rng = np.random.default_rng(7)
    n, F = 40, 3
    if boxes == "cubic":
        box = np.broadcast_to(np.eye(3) * 6.0, (F, 3, 3)).copy()
    else:  # restricted triclinic (GROMACS-like), each frame a bit different
        box = np.array([[6.0, 0, 0], [1.5, 5.8, 0], [-1.0, 1.2, 5.7]]) * rng.uniform(0.97, 1.03, (F, 1, 1))
    true = np.empty((F, n, 3))
    for f in range(F):
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        true[f] = (_zigzag(n) - 2.5) @ q.T + 3.0
    assert np.linalg.norm(true[:, -1] - true[:, 0], axis=-1).min() > 4.9   # 5 nm in a ~6 nm box
    shifts = rng.integers(-3, 4, (F, n, 3)).astype(float)
    split = true + np.einsum("fnk,fkj->fnj", shifts, box)
    bonds = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
    whole = G.make_whole(split, box, bonds, n)
    root_shift = split[:, :1] - true[:, :1]             # a lattice vector per frame
    np.testing.assert_allclose(whole, true + root_shift, atol=1e-10)
    # the per-chunk form with precomputed edges gives the same
    edges = G.spanning_tree_edges(n, bonds[::-1])
    np.testing.assert_array_equal(G.make_whole_along(split, box, edges), whole)


def test_make_whole_many_copies_and_branches():
    # a branched 5-atom molecule (0-1, 1-2, 1-3, 3-4), M = 2 copies, one orthorhombic box
    true = np.array([[0.0, 0, 0], [0.15, 0, 0], [0.2, 0.14, 0], [0.25, -0.1, 0.05], [0.4, -0.1, 0.05]]) + 1.9
    box = np.array([2.0, 2.1, 2.2])
    split = np.stack([G.wrap(true, box), G.wrap(true + 0.5, box)])[None]   # (1, 2, 5, 3)
    edges = G.spanning_tree_edges(5, [(0, 1), (1, 2), (1, 3), (3, 4)])
    np.testing.assert_array_equal(edges, [[0, 1], [1, 2], [1, 3], [3, 4]])
    whole = G.make_whole_along(split, box, edges)
    for m in range(2):
        d = whole[0, m] - whole[0, m, :1]
        np.testing.assert_allclose(d, true - true[:1], atol=1e-12)


def test_make_whole_disconnected_graph_raises():
    x = np.zeros((1, 5, 3))
    with pytest.raises(ValueError, match=r"\[2, 3, 4\]"):
        G.make_whole(x, np.eye(3), [(0, 1), (2, 3), (3, 4)], 5)
    with pytest.raises(ValueError, match="not connected"):
        G.spanning_tree_edges(3, [(0, 1)])
    # forest=True roots each component at its lowest atom instead
    np.testing.assert_array_equal(G.spanning_tree_edges(5, [(0, 1), (2, 3), (3, 4)], forest=True),
                                  [[0, 1], [2, 3], [3, 4]])
    with pytest.raises(ValueError, match="bond indices"):
        G.spanning_tree_edges(3, [(0, 3)])
    assert G.spanning_tree_edges(1, np.zeros((0, 2))).shape == (0, 2)


# ------------------------------------------------------------------ bonded coordinates
def test_distances_and_angles_hand_values():
    x = np.array([[1.0, 0, 0], [0, 0, 0], [0, 2.0, 0], [-3.0, 0, 0]])
    np.testing.assert_allclose(G.distances(x, [(0, 1), (1, 2), (0, 3)]), [1.0, 2.0, 4.0])
    np.testing.assert_allclose(G.angles(x, [(0, 1, 2), (0, 1, 3), (0, 1, 0)]), [math.pi / 2, math.pi, 0.0],
                               atol=1e-12)
    # (F, N, 3) in, (F, K) out; minimum image across a face
    xb = np.array([[[0.1, 0, 0], [1.9, 0, 0], [1.9, 0.3, 0]]])
    box = np.array([2.0, 2.0, 2.0])
    np.testing.assert_allclose(G.distances(xb, [(0, 1)], box), [[0.2]])
    np.testing.assert_allclose(G.distances(xb, [(0, 1)]), [[1.8]])
    np.testing.assert_allclose(G.angles(xb, [(0, 1, 2)], np.eye(3) * 2.0), [[math.pi / 2]])


def test_dihedrals_planar_and_sign():
    cis = np.array([[1.0, 0, 0], [0, 0, 0], [0, 1.0, 0], [1.0, 1.0, 0]])
    trans = cis.copy()
    trans[3, 0] = -1.0
    assert G.dihedrals(cis, [(0, 1, 2, 3)])[0] == pytest.approx(0.0, abs=1e-12)
    assert abs(G.dihedrals(trans, [(0, 1, 2, 3)])[0]) == pytest.approx(math.pi)
    perp = cis.copy()
    perp[3] = [0.0, 1.0, 1.0]
    phi = G.dihedrals(perp, [(0, 1, 2, 3)])[0]
    assert phi == pytest.approx(-math.pi / 2)
    mirror = perp * [1, 1, -1]
    assert G.dihedrals(mirror, [(0, 1, 2, 3)])[0] == pytest.approx(math.pi / 2)
    # reversing the quadruple leaves a dihedral unchanged
    assert G.dihedrals(perp, [(3, 2, 1, 0)])[0] == pytest.approx(phi)
    # across a periodic face: same value as for the whole molecule
    box = np.array([2.5, 2.5, 2.5])       # bonds of 1 nm stay below half the box
    assert G.dihedrals(G.wrap(perp + 1.9, box), [(0, 1, 2, 3)], box)[0] == pytest.approx(phi)


def test_dihedrals_match_mdtraj_with_sign():
    md = pytest.importorskip("mdtraj")
    rng = np.random.default_rng(11)
    n = 12
    xyz = rng.uniform(0, 2.0, (4, n, 3)).astype(np.float32)
    top = md.Topology()
    res = top.add_residue("RES", top.add_chain())
    for k in range(n):
        top.add_atom(f"C{k}", md.element.carbon, res)
    quads = np.array([rng.choice(n, 4, replace=False) for _ in range(30)])
    ref = md.compute_dihedrals(md.Trajectory(xyz, top), quads, periodic=False)
    ours = G.dihedrals(xyz.astype(np.float64), quads)
    np.testing.assert_allclose(ours, ref, atol=2e-4)
    big = np.abs(ref) > 0.05
    assert big.sum() > 50
    np.testing.assert_array_equal(np.sign(ours[big]), np.sign(ref[big]))
    ang = md.compute_angles(md.Trajectory(xyz, top), quads[:, :3], periodic=False)
    np.testing.assert_allclose(G.angles(xyz.astype(np.float64), quads[:, :3]), ang, atol=2e-4)


def test_impropers_are_dihedrals_of_the_ordered_quadruple():
    # L-alanine-like centre: CA at the origin, N, C, CB around it; N-CA-CB-C
    ca = np.zeros(3)
    n_ = np.array([-0.8, -0.5, 0.3])
    c = np.array([0.9, -0.4, 0.2])
    cb = np.array([0.0, 0.6, 0.8])
    x = np.stack([n_, ca, cb, c]) * 0.15
    q = [(0, 1, 2, 3)]
    phi = G.impropers(x, q)[0]
    assert phi == G.dihedrals(x, q)[0]
    assert 1.5 < abs(phi) < 2.6                         # about +-120 degrees
    assert G.impropers(x * [1, 1, -1], q)[0] == pytest.approx(-phi)   # the enantiomer


def test_tuple_shapes_and_errors():
    x = np.zeros((2, 4, 3))
    assert G.distances(x, np.zeros((0, 2), int)).shape == (2, 0)
    assert G.dihedrals(x, [0, 1, 2, 3]).shape == (2, 1)
    with pytest.raises(ValueError):
        G.angles(x, [(0, 1)])
    with pytest.raises(ValueError):
        G.minimum_image(np.zeros((2, 3)), np.zeros((3, 3, 3)))   # per-frame boxes need a frame axis


# ----------------------------------------------------------------------------- units
def test_units_against_scipy_constants():
    sc = pytest.importorskip("scipy.constants")
    assert units.KB_KJ_MOL_K == pytest.approx(sc.R / 1000.0, rel=1e-15)
    assert units.KB_KJ_MOL_K == pytest.approx(0.0083144626181532, rel=1e-14)   # GROMACS manual
    assert units.kT(300.0) == pytest.approx(sc.k * sc.N_A * 300.0 / 1000.0, rel=1e-15)
    assert units.AVOGADRO == sc.N_A and units.BOLTZMANN_J_K == sc.k
    assert units.ELEMENTARY_CHARGE == sc.e
    assert units.NM_TO_ANGSTROM == pytest.approx(sc.nano / sc.angstrom)
    assert units.ANGSTROM_TO_NM * units.NM_TO_ANGSTROM == pytest.approx(1.0)
    assert units.KCAL_TO_KJ == pytest.approx(sc.calorie)                  # thermochemical
    assert units.KJ_TO_KCAL == pytest.approx(0.239006, rel=1e-5)
    assert units.EV_TO_KJ_MOL == pytest.approx(sc.eV * sc.N_A / 1000.0, rel=1e-12)   # 96.485
    assert units.KJ_MOL_TO_MEV == pytest.approx(1e6 / (sc.eV * sc.N_A), rel=1e-12)
    assert units.KJ_MOL_NM_TO_MEV_A == pytest.approx(1.0364269656, rel=1e-9)
    assert units.KJ_MOL_NM_TO_KCAL_MOL_A == pytest.approx(1 / 41.84)
    assert units.ATOMIC_MASS_KG == pytest.approx(sc.atomic_mass, rel=1e-9)
    assert units.AMU_NM2_PS2_TO_KJ_MOL == pytest.approx(1.0, rel=1e-8)
    assert units.PS_TO_FS == pytest.approx(sc.pico / sc.femto)
    assert units.RAD_TO_DEG == pytest.approx(math.degrees(1.0))


def test_domain_unit_modules_use_the_shared_constants():
    from mapmatters.classical import units as cu

    assert cu.KJ_TO_KCAL == units.KJ_TO_KCAL and cu.NM_TO_ANGSTROM == units.NM_TO_ANGSTROM
