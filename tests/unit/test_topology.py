"""Angles, dihedrals and 1-4 pairs derived from the bond graph; hexane counts by hand."""
from mapmatters.reference import topology
from mapmatters.system import load_system


def test_butane_like_chain():
    bonds = [(0, 1), (1, 2), (2, 3)]
    assert topology.angles_from_bonds(4, bonds) == [(0, 1, 2), (1, 2, 3)]
    assert topology.dihedrals_from_bonds(4, bonds) == [(0, 1, 2, 3)]
    assert topology.pairs14_from_bonds(4, bonds) == [(0, 3)]


def test_ring_pairs_are_not_14():
    # cyclopropane-like 3-ring plus a tail: no pair appears as 1-4 if it is also 1-2/1-3
    bonds = [(0, 1), (1, 2), (2, 0), (2, 3)]
    assert topology.pairs14_from_bonds(4, bonds) == []   # 1-3 at most in this graph
    for i, j in topology.pairs14_from_bonds(4, bonds):
        assert (i, j) not in {(0, 1), (1, 2), (0, 2), (2, 3)}


def test_hexane_counts(hexane_yaml):
    mol = load_system(hexane_yaml)["molecule"]
    idx = {a["name"]: i for i, a in enumerate(mol["atoms"])}
    bonds = [(idx[a], idx[b]) for a, b in mol["bonds"]]
    # n-hexane C6H14: 19 bonds; angles: sum over atoms of C(deg, 2) = 6 carbons x C(4,2) = 36;
    # dihedrals: C1-C2 bond 3*3=9, C2-C3 3*3=9, C3-C4 9, C4-C5 9, C5-C6 9 -> 45, all 1-4 pairs distinct
    assert len(bonds) == 19
    assert len(topology.angles_from_bonds(20, bonds)) == 36
    assert len(topology.dihedrals_from_bonds(20, bonds)) == 45
    assert len(topology.pairs14_from_bonds(20, bonds)) == 45
    itp = topology.molecule_itp("HEX", mol["atoms"], mol["bonds"])
    assert "[ moleculetype ]" in itp and "HEX  3" in itp
    assert "total charge +0.00000" in itp
