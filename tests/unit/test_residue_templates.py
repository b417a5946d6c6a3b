"""Residue templates: expansion over a sequence (mdtraj-style +1/-1 links), species rules, and
every bad input named by file, key and fix."""
import copy

import pytest
from conftest import ROOT

from mapmatters.errors import InputError
from mapmatters.io import load_yaml
from mapmatters.mapping.spec import parse_mapping, species_by_rule
from mapmatters.reference.forcefield import parse_rtp, residue_atoms
from mapmatters.system import load_system

ALANINE = ROOT / "config/systems/alanine.yaml"
ATOMS = {"ACE": ["HH31", "CH3", "HH32", "HH33", "C", "O"],
         "ALA": ["N", "H", "CA", "HA", "CB", "HB1", "HB2", "HB3", "C", "O"],
         "NME": ["N", "H", "CH3", "HH31", "HH32", "HH33"]}


def alanine_entry(name):
    return copy.deepcopy(load_yaml(ALANINE)["mappings"][name])


def test_core_beta_of_a_15mer_has_62_beads():
    seq = ["ACE"] + ["ALA"] * 15 + ["NME"]
    spec = parse_mapping("core-beta", alanine_entry("core-beta"), None, sequence=seq, residue_atoms=ATOMS)
    assert spec.n_beads == 1 + 4 * 15 + 1 == 62
    names = spec.bead_names
    assert names[:6] == ("ACE1-C", "ALA2-N", "ALA2-CA", "ALA2-CB", "ALA2-C", "ALA3-N")
    assert names[-1] == "NME17-N"
    # backbone chain C-N-CA-C-N-... plus one CA-CB branch per residue: 61 bonds in a tree of 62 beads
    assert len(spec.bonds) == 61
    idx = {n: i for i, n in enumerate(names)}
    assert (idx["ALA2-C"], idx["ALA3-N"]) in spec.bonds
    assert (idx["ACE1-C"], idx["ALA2-N"]) in spec.bonds
    assert (idx["ALA16-C"], idx["NME17-N"]) in spec.bonds
    assert spec.beads[idx["ALA9-CB"]].residue == 8 and spec.beads[idx["ALA9-CB"]].atoms == ("CB",)
    assert spec.species_names == ("C", "N")


def test_dipeptide_mappings(tmp_path):
    system = load_system(ALANINE)
    from mapmatters.system import mappings

    maps = mappings(system, source=str(ALANINE))
    sizes = {"atomistic": 22, "united-atom": 10, "heavy-atom": 10, "heavy-atom-map2": 10, "core": 5,
             "core-map2": 5, "core-single": 5, "core-beta": 6, "core-beta-map2": 6, "core-beta-single": 6}
    assert {k: v.n_beads for k, v in maps.items()} == sizes
    # the authors' species lists (1-based): United Atom [1,2,3,4,5,1,2,3,4,1], Heavy Atom [1,1,2,3,1,1,1,2,3,1],
    # Core [1,2,1,1,2], Core Beta [1,2,1,1,1,2]
    assert [i + 1 for i in maps["united-atom"].species_ids] == [1, 2, 3, 4, 5, 1, 2, 3, 4, 1]
    assert [i + 1 for i in maps["heavy-atom"].species_ids] == [1, 1, 2, 3, 1, 1, 1, 2, 3, 1]
    assert [i + 1 for i in maps["core"].species_ids] == [1, 2, 1, 1, 2]
    assert [i + 1 for i in maps["core-beta"].species_ids] == [1, 2, 1, 1, 1, 2]
    assert len(set(maps["core-map2"].species_ids)) == 5 and set(maps["core-single"].species_ids) == {0}
    # the atomistic map keeps every atom once, and its bonds are the 21 chemical bonds of a 22-atom tree
    assert sum(len(b.atoms) for b in maps["atomistic"].beads) == 22 and len(maps["atomistic"].bonds) == 21
    ua = maps["united-atom"]
    assert ua.beads[ua.bead_names.index("ALA2-CB")].atoms == ("CB", "HB1", "HB2", "HB3")
    assert ua.observable_kind == "dihedral"
    assert [ua.bead_names[i] for i in ua.observable_beads] == ["ACE1-C", "ALA2-N", "ALA2-CA", "ALA2-C"]


def test_species_rules():
    assert species_by_rule("single", list("abcde")) == ["A"] * 5
    assert species_by_rule("alternating", list("abcde")) == ["A", "B", "A", "B", "A"]
    assert species_by_rule("symmetric", list("abcdef")) == ["S1", "S2", "S3", "S3", "S2", "S1"]
    assert species_by_rule("unique", ["x", "y"]) == ["x", "y"]


def test_ca_links_skip_the_caps_and_the_chain_end():
    entry = {"residues": {"ACE": {"beads": []}, "NME": {"beads": []},
                          "ALA": {"beads": [{"name": "CA", "atoms": ["CA"]}], "bonds": [["CA", "+CA"]]}},
             "species_rule": "unique"}
    spec = parse_mapping("ca", entry, None, sequence=["ACE"] + ["ALA"] * 15 + ["NME"], residue_atoms=ATOMS)
    assert spec.n_beads == 15 and len(spec.bonds) == 14 and len(spec.species_names) == 15


@pytest.mark.parametrize("edit, match", [
    (lambda e: e["residues"]["ALA"]["beads"][1].update(atoms=["CX"]),
     r"alanine.yaml: key 'mappings.m.residues.ALA.beads\[1\].atoms': bead 'CA' names atom 'CX', which residue "
     r"ALA does not have.*Fix: use atom names of ALA: N, H, CA"),
    (lambda e: e["residues"].pop("NME"),
     r"key 'mappings.m.residues': residue NME3 of the sequence has no template.*Fix: add 'NME: \{beads: \[\]\}'"),
    (lambda e: e["residues"]["ALA"]["bonds"].append(["CA", "CG"]),
     r"key 'mappings.m.residues.ALA.bonds\[4\]': bond names bead 'CG', which the template of ALA does not have"),
    (lambda e: e["residues"]["ALA"]["bonds"].append(["CB", "+CB"]),
     r"key 'mappings.m.residues.ALA.bonds\[4\]': this bond of the ALA template connects to no bead anywhere"),
    (lambda e: [e["residues"][r].update(beads=[], bonds=[]) for r in e["residues"]],
     r"key 'mappings.m.residues': the templates leave the molecule \(ACE-ALA-NME\) without beads"),
])
def test_bad_templates(edit, match):
    e = alanine_entry("core-beta")
    edit(e)
    with pytest.raises(InputError, match=match):
        parse_mapping("m", e, None, sequence=["ACE", "ALA", "NME"], residue_atoms=ATOMS, source=str(ALANINE))


def test_unknown_sequence_residue(tmp_path):
    if residue_atoms("amber99sb-ildn") is None:
        pytest.skip("GROMACS' amber99sb-ildn.ff is not installed (./install.sh)")
    data = load_yaml(ALANINE)
    data["molecule"]["sequence"] = ["ACE", "XYZ", "NME"]
    p = tmp_path / "bad.yaml"
    import yaml

    p.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"bad.yaml: key 'molecule.sequence\[1\]': residue 'XYZ' \(position 2\) is not "
                                         r"in force field amber99sb-ildn"):
        load_system(p)


def test_parse_rtp():
    text = """[ bondedtypes ]
 1 1 9 4 1 3 1 0
[ ALA ]
 [ atoms ]
     N    N           -0.41570     1
    CA    CT           0.03370     3   ; comment
 [ bonds ]
     N    CA
[ NME ]
 [ atoms ]
     N    N           -0.41570     1
"""
    assert parse_rtp(text) == {"ALA": ["N", "CA"], "NME": ["N"]}
