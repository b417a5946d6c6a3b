"""Bonded observables: hand-built geometries with known answers, mdtraj cross-checks, histograms."""
from __future__ import annotations

import types

import mdtraj as md
import numpy as np
import pytest

from mapmatters.analysis import bonded as B
from mapmatters.cgdata import CGDataset, CGWriter, Topology
from mapmatters.errors import InputError

CUBE = np.diag([3.0, 3.0, 3.0])


def _dih(points, box=None):
    return B.dihedrals_deg(np.asarray(points, float)[None], box, [[0, 1, 2, 3]])[0, 0]


# ----------------------------------------------------------------------------- geometry
def test_bond_split_across_periodic_box():
    x = np.array([[0.05, 1.0, 1.0], [2.95, 1.0, 1.0], [1.0, 0.02, 2.99]])
    d = B.bond_lengths(x, CUBE, [[0, 1], [1, 2]])
    assert d.shape == (1, 2)
    assert d[0, 0] == pytest.approx(0.1, abs=1e-12)
    # 1 -> 2: dx = -1.95 -> +1.05, dy = -0.98, dz = 1.99 -> -1.01
    assert d[0, 1] == pytest.approx(np.sqrt(1.05**2 + 0.98**2 + 1.01**2), abs=1e-12)
    # without a box the raw distance is returned
    assert B.bond_lengths(x, None, [[0, 1]])[0, 0] == pytest.approx(2.9)


def test_angles_square_line_triangle():
    square = np.array([[1.0, 0, 0], [0, 0, 0], [0, 1.0, 0], [1.0, 1.0, 0]])
    a = B.angles_deg(square, None, [[0, 1, 2], [1, 2, 3], [0, 1, 3]])
    np.testing.assert_allclose(a[0], [90.0, 90.0, 45.0], atol=1e-10)
    line = np.array([[0.0, 0, 0], [0.2, 0, 0], [0.4, 0, 0]])
    assert B.angles_deg(line, None, [[0, 1, 2]])[0, 0] == pytest.approx(180.0, abs=1e-10)
    tri = np.array([[0.0, 0, 0], [1.0, 0, 0], [0.5, np.sqrt(3) / 2, 0]])
    assert B.angles_deg(tri, None, [[0, 1, 2]])[0, 0] == pytest.approx(60.0, abs=1e-10)


def test_angle_across_periodic_box():
    # vertex at the box edge, arms wrapped to the other side: a right angle
    x = np.array([[0.1, 2.9, 1.0], [2.95, 2.9, 1.0], [2.95, 0.05, 1.0]])
    assert B.angles_deg(x, CUBE, [[0, 1, 2]])[0, 0] == pytest.approx(90.0, abs=1e-9)


def test_dihedral_trans_cis_gauche():
    # j at the origin, k along +x; i along +y from j.
    j, k, i = [0.0, 0, 0], [0.15, 0, 0], [0.0, 0.15, 0]
    assert abs(_dih([i, j, k, [0.15, -0.15, 0]])) == pytest.approx(180.0, abs=1e-10)   # trans
    assert _dih([i, j, k, [0.15, 0.15, 0]]) == pytest.approx(0.0, abs=1e-10)            # cis
    # gauche+: looking along j -> k (along +x, so +y up and +z to the viewer's LEFT), the far
    # substituent is rotated 60 deg clockwise from the near one (+y), i.e. towards +z.
    gp = [0.15, 0.15 * np.cos(np.pi / 3), 0.15 * np.sin(np.pi / 3)]
    gm = [0.15, 0.15 * np.cos(np.pi / 3), -0.15 * np.sin(np.pi / 3)]
    assert _dih([i, j, k, gp]) == pytest.approx(60.0, abs=1e-10)
    assert _dih([i, j, k, gm]) == pytest.approx(-60.0, abs=1e-10)
    # 120 deg and a reversed tuple gives the same angle (l-k-j-i)
    g120 = [0.15, 0.15 * np.cos(2 * np.pi / 3), 0.15 * np.sin(2 * np.pi / 3)]
    assert _dih([i, j, k, g120]) == pytest.approx(120.0, abs=1e-10)
    assert _dih([g120, k, j, i]) == pytest.approx(120.0, abs=1e-10)


def test_dihedral_chain_split_across_box():
    j, k, i = np.array([2.95, 1, 1]), np.array([3.10, 1, 1]), np.array([2.95, 1.15, 1])
    l = k + [0, 0.15 * np.cos(np.pi / 3), 0.15 * np.sin(np.pi / 3)]
    wrapped = np.mod(np.array([i, j, k, l]), 3.0)
    assert wrapped[2, 0] == pytest.approx(0.10)
    assert _dih(wrapped, CUBE) == pytest.approx(60.0, abs=1e-9)


def test_agree_with_mdtraj_on_random_periodic_coordinates():
    rng = np.random.default_rng(7)
    box = np.diag([2.0, 2.3, 2.6])
    x = (rng.random((5, 12, 3)) * np.diag(box)).astype(np.float32)
    quads = np.array([rng.choice(12, 4, replace=False) for _ in range(20)])
    top = md.Topology()
    res = top.add_residue("R", top.add_chain())
    for n in range(12):
        top.add_atom(f"X{n}", None, res)
    traj = md.Trajectory(x, top)
    traj.unitcell_vectors = np.repeat(box[None], 5, axis=0).astype(np.float32)
    ref_dih = np.degrees(md.compute_dihedrals(traj, quads, periodic=True))
    ref_ang = np.degrees(md.compute_angles(traj, quads[:, :3], periodic=True))
    ref_bond = md.compute_distances(traj, quads[:, :2], periodic=True)
    mine_dih = B.dihedrals_deg(x, np.repeat(box[None], 5, axis=0), quads)
    diff = (mine_dih - ref_dih + 180.0) % 360.0 - 180.0
    assert np.abs(diff).max() < 1e-3
    np.testing.assert_allclose(B.angles_deg(x, box, quads[:, :3]), ref_ang, atol=1e-2)
    np.testing.assert_allclose(B.bond_lengths(x, box, quads[:, :2]), ref_bond, atol=1e-5)
    # ranges
    assert mine_dih.min() >= -180 and mine_dih.max() <= 180
    # sign matters: a mirror image flips every dihedral
    mirror = B.dihedrals_deg(x * np.array([1, 1, -1], np.float32), None, quads)
    plain = B.dihedrals_deg(x, None, quads)
    np.testing.assert_allclose(mirror, -plain, atol=1e-6)


def test_nearest_neighbour_distances_periodic_and_species():
    # beads: 0 (A) and 1 (A) 0.3 apart across the boundary; 2 (B) 0.1 from bead 0; 3 (A) far
    x = np.array([[0.1, 1.0, 1.0], [2.8, 1.0, 1.0], [0.1, 1.1, 1.0], [1.5, 2.0, 2.0]])
    species = np.array([0, 0, 1, 0])
    d, idx = B.nearest_neighbour_distances(x, CUBE, species, 0, return_index=True)
    np.testing.assert_allclose(d[0, :3], [0.3, 0.3, 0.1], atol=1e-12)
    np.testing.assert_array_equal(idx[0, :3], [1, 0, 0])
    dB = B.nearest_neighbour_distances(x, CUBE, species, 1, beads=[0, 2])
    assert dB[0, 0] == pytest.approx(0.1)
    assert np.isinf(dB[0, 1])  # bead 2 is the only B: it is not its own neighbour


# ----------------------------------------------------------------------------- histograms
def test_bin_edges_and_errors():
    np.testing.assert_allclose(B.bin_edges("angle", 2.0)[[0, -1]], [0, 180])
    assert len(B.bin_edges("dihedral", 5.0)) == 73
    assert len(B.bin_edges("bond", 0.005, 1.0)) == 201
    with pytest.raises(InputError, match="whole number of bins"):
        B.bin_edges("angle", 7.0)
    with pytest.raises(InputError):
        B.bin_edges("bond", 0.01)
    with pytest.raises(InputError):
        B.bin_edges("torsion", 1.0)


def test_histogram_density_known_values():
    h = B.Histogram("angle", B.bin_edges("angle", 10.0), np.zeros(18))
    h.add(np.array([5.0, 5.0, 95.0, 180.0, 200.0]))  # 180 falls in the last bin, 200 outside
    assert h.n_outside == 1 and h.n_samples == 4
    d = h.density
    assert d[0] == pytest.approx(2 / 4 / 10) and d[9] == pytest.approx(1 / 40) and d[17] == pytest.approx(1 / 40)
    assert np.sum(d * h.widths) == pytest.approx(1.0)


def _write_chain_dataset(path, n_mol=4, n_frames=7, box_nm=3.0, seed=3):
    """Four-bead chains (A B B A) with random positions, wrapped into a cubic box."""
    rng = np.random.default_rng(seed)
    bpm = 4
    n = n_mol * bpm
    off = np.arange(n_mol) * bpm
    bonds = (np.array([[0, 1], [1, 2], [2, 3]])[None] + off[:, None, None]).reshape(-1, 2)
    top = Topology(species=np.tile([0, 1, 1, 0], n_mol), species_names=["A", "B"],
                   bead_names=np.array(["A1", "B1", "B2", "A2"] * n_mol), masses=np.ones(n),
                   molecule=np.repeat(np.arange(n_mol), bpm), bonds=bonds,
                   angles=np.zeros((0, 3), int), dihedrals=np.zeros((0, 4), int),
                   exclusions=np.zeros((0, 2), int))
    start = rng.random((n_frames, n_mol, 1, 3)) * box_nm
    steps = rng.normal(size=(n_frames, n_mol, bpm, 3)) * 0.1
    steps[:, :, 0] = 0
    x = np.mod(start + np.cumsum(steps, axis=2), box_nm).reshape(n_frames, n, 3).astype(np.float32)
    box = np.repeat(np.diag([box_nm] * 3)[None], n_frames, axis=0).astype(np.float32)
    attrs = {"n_molecules": n_mol, "beads_per_molecule": bpm, "observable_kind": "dihedral",
             "observable_beads": [0, 1, 2, 3]}
    with CGWriter(path, top, periodic=True, attrs=attrs) as w:
        w.append(x, np.zeros_like(x), box, np.arange(n_frames, dtype=float), np.arange(n_frames))
    return x, box


def test_observable_tuples_and_streamed_histogram(tmp_path):
    x, box = _write_chain_dataset(tmp_path / "d.h5")
    with CGDataset(tmp_path / "d.h5") as ds:
        t = B.observable_tuples(ds)
        np.testing.assert_array_equal(t, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]])
        h = B.dataset_observable_histogram(ds, 10.0, chunk=3)            # 3 + 3 + 1 frames
        h2 = B.observable_histogram(ds, "dihedral", t, 10.0, chunk=2, stride=2)
    assert h.kind == "dihedral" and h.n_frames == 7 and h2.n_frames == 4
    direct, _ = np.histogram(B.dihedrals_deg(x, box, t), bins=B.bin_edges("dihedral", 10.0))
    np.testing.assert_array_equal(h.counts, direct)
    direct2, _ = np.histogram(B.dihedrals_deg(x[::2], box[::2], t), bins=B.bin_edges("dihedral", 10.0))
    np.testing.assert_array_equal(h2.counts, direct2)
    assert np.sum(h.density * h.widths) == pytest.approx(1.0)


def test_observable_tuples_rejects_bad_attrs():
    ds = types.SimpleNamespace(path="x.h5", attrs={"observable_kind": "angle", "observable_beads": [0, 1],
                                                   "beads_per_molecule": 3, "n_molecules": 2})
    with pytest.raises(InputError, match="needs 3 beads"):
        B.observable_tuples(ds)
    ds.attrs["observable_beads"] = [0, 1, 3]
    with pytest.raises(InputError, match="outside a molecule"):
        B.observable_tuples(ds)


def test_distribution_csv_roundtrip(tmp_path):
    h = B.Histogram("angle", B.bin_edges("angle", 30.0), np.array([0, 0, 1, 3, 0, 0.0]))
    B.write_distribution_csv(tmp_path / "a.csv", h)
    assert (tmp_path / "a.csv").read_text().splitlines()[0] == "angle_deg,density_per_deg"
    df, kind = B.read_distribution_csv(tmp_path / "a.csv")
    assert kind == "angle"
    np.testing.assert_allclose(df["angle_deg"], [15, 45, 75, 105, 135, 165])
    np.testing.assert_allclose(df["density_per_deg"], [0, 0, 1 / 120, 3 / 120, 0, 0])
