"""COM positions and force sums on hand-built molecules, derived by hand."""
import numpy as np
import pytest

from mapmatters.errors import InputError
from mapmatters.mapping import build_cgmap, map_forces, map_positions, parse_mapping
from mapmatters.mapping.engine import minimum_image, wrap


def toy(n_mol=1):
    """A 4-atom molecule X1 X2 X3 X4 with masses 1, 3, 2, 5; X4 belongs to no bead."""
    names = ["X1", "X2", "X3", "X4"] * n_mol
    masses = [1.0, 3.0, 2.0, 5.0] * n_mol
    molnums = np.repeat(np.arange(n_mol), 4)
    moltypes = ["TOY"] * (4 * n_mol)
    spec = parse_mapping("m", {"beads": [{"name": "P", "atoms": ["X1", "X2"], "species": "A"},
                                         {"name": "Q", "atoms": ["X3"], "species": "B"}],
                               "bonds": [["P", "Q"]]}, ["X1", "X2", "X3", "X4"])
    return build_cgmap(spec, names=names, masses=masses, molnums=molnums, moltypes=moltypes,
                       molecule_type="TOY")


def test_com_and_force_sum_by_hand():
    cg = toy()
    x = np.array([[0.0, 0.0, 0.0], [0.4, 0.0, 0.0], [1.0, 1.0, 1.0], [9.0, 9.0, 9.0]])
    f = np.array([[1.0, 2.0, 3.0], [-4.0, 0.5, 0.0], [7.0, 7.0, 7.0], [100.0, 100.0, 100.0]])
    pos = map_positions(cg, x, None)[0]
    # bead P: (1*0 + 3*0.4)/4 = 0.3 along x; bead Q is atom X3 itself
    np.testing.assert_allclose(pos, [[0.3, 0.0, 0.0], [1.0, 1.0, 1.0]], atol=1e-12)
    frc = map_forces(cg, f)[0]
    np.testing.assert_allclose(frc, [[-3.0, 2.5, 3.0], [7.0, 7.0, 7.0]], atol=1e-12)
    # X4 is dropped: it contributes neither to positions nor forces
    assert cg.n_beads == 2 and sorted(cg.atom_index) == [0, 1, 2]
    np.testing.assert_allclose(cg.masses, [4.0, 2.0])
    np.testing.assert_array_equal(cg.species, [0, 1])
    np.testing.assert_array_equal(cg.bonds, [[0, 1]])


def test_molecule_split_across_box_maps_to_true_centre():
    cg = toy()
    L = 2.0
    box = np.diag([L, L, L])[None]
    # X1 near the upper x face, X2 wrapped to the lower face: true separation 0.4 nm across the boundary
    x = np.array([[1.9, 0.5, 0.5], [0.3, 0.5, 0.5], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    pos = map_positions(cg, x, box)[0]
    # unwrapped X2 = 2.3; centre = (1*1.9 + 3*2.3)/4 = 2.2 -> wrapped into the box: 0.2
    np.testing.assert_allclose(pos[0], [0.2, 0.5, 0.5], atol=1e-12)
    # without the box the naive centre would be wrong
    naive = map_positions(cg, x, None)[0]
    assert abs(naive[0, 0] - 0.2) > 0.1


def test_split_molecule_in_triclinic_box():
    cg = toy()
    box = np.array([[[2.0, 0.0, 0.0], [0.5, 2.0, 0.0], [0.3, 0.4, 2.0]]])
    a1 = np.array([1.0, 1.0, 1.9])
    shift = np.array([0.1, -0.05, 0.2])
    a2 = a1 + shift - box[0, 2]      # the partner sits one c-vector away, i.e. across the box
    x = np.array([a1, a2, [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    pos = map_positions(cg, x, box)[0]
    expected = wrap((a1 + 0.75 * shift)[None, None], box)[0, 0]
    np.testing.assert_allclose(pos[0], expected, atol=1e-12)


def test_many_molecules_and_frames_vectorised():
    rng = np.random.default_rng(1)
    n_mol, F = 5, 3
    cg = toy(n_mol)
    x = rng.uniform(0, 3, (F, 4 * n_mol, 3))
    f = rng.normal(size=(F, 4 * n_mol, 3))
    pos = map_positions(cg, x, None)
    frc = map_forces(cg, f)
    assert pos.shape == (F, 2 * n_mol, 3) and frc.shape == (F, 2 * n_mol, 3)
    for m in range(n_mol):
        a = 4 * m
        np.testing.assert_allclose(pos[:, 2 * m], (x[:, a] * 1 + x[:, a + 1] * 3) / 4)
        np.testing.assert_allclose(frc[:, 2 * m + 1], f[:, a + 2])
        # per molecule: CG forces sum to the forces of the atoms the mapping keeps
        np.testing.assert_allclose(frc[:, 2 * m:2 * m + 2].sum(1), f[:, a:a + 3].sum(1))
    np.testing.assert_array_equal(cg.molecule, np.repeat(np.arange(n_mol), 2))
    np.testing.assert_array_equal(cg.bonds, [[2 * m, 2 * m + 1] for m in range(n_mol)])


def test_minimum_image_rectangular():
    box = np.diag([2.0, 3.0, 4.0])[None]
    d = np.array([[[1.5, -2.0, 2.5]]])
    np.testing.assert_allclose(minimum_image(d, box), [[[-0.5, 1.0, -1.5]]])


def test_unknown_molecule_type_is_an_error():
    spec = parse_mapping("m", {"beads": [{"name": "P", "atoms": ["X1"], "species": "A"}], "bonds": []}, None)
    with pytest.raises(InputError, match="no molecule of type 'HEX'"):
        build_cgmap(spec, names=["X1"], masses=[1.0], molnums=[0], moltypes=["SOL"], molecule_type="HEX")


def test_atom_missing_in_topology_names_mapping_key():
    spec = parse_mapping("m", {"beads": [{"name": "P", "atoms": ["X9"], "species": "A"}], "bonds": []}, None)
    with pytest.raises(InputError, match=r"mappings\.m\.beads\[0\]\.atoms.*X9|X9.*mappings\.m"):
        build_cgmap(spec, names=["X1"], masses=[1.0], molnums=[0], moltypes=["TOY"], molecule_type="TOY",
                    topology="run.tpr")


def test_trajectory_atom_count_must_match_topology():
    cg = toy()
    with pytest.raises(InputError, match="trajectory has 5 atoms but the topology has 4"):
        map_positions(cg, np.zeros((1, 5, 3)), None)
