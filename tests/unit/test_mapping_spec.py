"""Mapping YAML checks: every bad input gets an error naming the file, key and fix."""
import copy

import pytest

from mapmatters.errors import InputError
from mapmatters.io import load_yaml
from mapmatters.mapping import load_mappings, parse_mapping
from mapmatters.system import load_system

ATOMS = ["C1", "C2", "C3"]


def entry(**kw):
    e = {"beads": [{"name": "A", "atoms": ["C1"], "species": "a"},
                   {"name": "B", "atoms": ["C2", "C3"], "species": "b"}],
         "bonds": [["A", "B"]]}
    e.update(kw)
    return e


def test_hexane_mappings_load(hexane_yaml):
    maps = load_mappings(load_system(hexane_yaml))
    assert set(maps) == {"four-site", "three-site", "two-site", "two-site-Map2"}
    four = maps["four-site"]
    assert four.bead_names == ("A1", "B1", "B2", "A2")
    assert four.species_ids == (0, 1, 1, 0) and four.species_names == ("A", "B")
    assert four.dihedrals() == [(0, 1, 2, 3)]
    assert four.observable_kind == "dihedral" and four.observable_beads == (0, 1, 2, 3)
    three = maps["three-site"]
    assert three.angles() == [(0, 1, 2)]
    assert three.excluded_pairs() == {(0, 1), (1, 2), (0, 2)}
    assert sum(len(b.atoms) for b in three.beads) == 20
    assert maps["two-site"].species_ids == (0, 0)
    assert maps["two-site-Map2"].species_ids == (0, 1)


def test_atom_in_two_beads():
    e = entry()
    e["beads"][1]["atoms"] = ["C1", "C3"]
    with pytest.raises(InputError, match=r"hex.yaml: key 'mappings.m.beads\[1\] \(B\).atoms': atom 'C1' is in two beads"):
        parse_mapping("m", e, ATOMS, source="hex.yaml")


def test_unknown_atom_name():
    e = entry()
    e["beads"][0]["atoms"] = ["C7"]
    with pytest.raises(InputError, match=r"names atom 'C7'.*Fix: use one of the molecule's atom names: C1, C2, C3"):
        parse_mapping("m", e, ATOMS, source="hex.yaml")


def test_empty_bead():
    e = entry()
    e["beads"][0]["atoms"] = []
    with pytest.raises(InputError, match=r"key 'mappings.m.beads\[0\] \(A\).atoms': bead 'A' has no atoms"):
        parse_mapping("m", e, ATOMS, source="hex.yaml")


def test_bead_without_species():
    e = entry()
    del e["beads"][1]["species"]
    with pytest.raises(InputError, match=r"bead 'B' has no species.*Fix"):
        parse_mapping("m", e, ATOMS, source="hex.yaml")


def test_bond_to_unknown_bead_and_bad_observable():
    with pytest.raises(InputError, match=r"key 'mappings.m.bonds\[0\]': unknown bead 'Z'"):
        parse_mapping("m", entry(bonds=[["A", "Z"]]), ATOMS)
    with pytest.raises(InputError, match=r"the observable \(angle\) needs 3 beads, got 2"):
        parse_mapping("m", entry(observable={"kind": "angle", "beads": ["A", "B"]}), ATOMS)


def test_duplicate_bead_name():
    e = entry()
    e["beads"][1]["name"] = "A"
    with pytest.raises(InputError, match="bead name 'A' is used twice"):
        parse_mapping("m", e, ATOMS)


def test_system_file_with_bad_mapping_names_the_file(tmp_path, hexane_yaml):
    data = load_yaml(hexane_yaml)
    bad = copy.deepcopy(data)
    bad["mappings"]["three-site"]["beads"][0]["atoms"].append("C3")   # C3 is also in bead B1
    p = tmp_path / "bad.yaml"
    import yaml
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match=r"bad.yaml: key 'mappings.three-site.beads\[1\] \(B1\).atoms': atom 'C3' is in two beads"):
        load_system(p)
