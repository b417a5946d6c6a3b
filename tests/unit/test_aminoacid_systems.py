"""The capped amino acids besides alanine (ACE-GLY-NME, ACE-PRO-NME, ACE-THR-NME; STUDY.md sections
2-3): each system YAML loads, every mapping expands, and bead counts, atoms, species and bonds are
what a hand count of the force-field residues gives (not recomputed by the code under test)."""
from collections import Counter

import networkx as nx
import pytest
from conftest import ROOT, require

from mapmatters.reference.forcefield import residue_atoms
from mapmatters.system import load_system, mappings

# amber99sb-ildn.ff/aminoacids.rtp, copied by hand (atom order of the .rtp)
ATOMS = {"ACE": ["HH31", "CH3", "HH32", "HH33", "C", "O"],
         "GLY": ["N", "H", "CA", "HA1", "HA2", "C", "O"],
         "PRO": ["N", "CD", "HD1", "HD2", "CG", "HG1", "HG2", "CB", "HB1", "HB2", "CA", "HA", "C", "O"],
         "THR": ["N", "H", "CA", "HA", "CB", "HB", "CG2", "HG21", "HG22", "HG23", "OG1", "HG1", "C", "O"],
         "NME": ["N", "H", "CH3", "HH31", "HH32", "HH33"]}
RESIDUE = {"glycine": "GLY", "proline": "PRO", "threonine": "THR"}

MAPS = ["united-atom", "heavy-atom", "heavy-atom-map2", "core", "core-map2", "core-single"]
BETA = ["core-beta", "core-beta-map2", "core-beta-single"]
#: beads per mapping, counted by hand: caps 3 + 2 heavy atoms, GLY 4, PRO 7, THR 7 heavy atoms
BEADS = {
    "glycine": {"united-atom": 9, "heavy-atom": 9, "heavy-atom-map2": 9, "core": 5, "core-map2": 5, "core-single": 5},
    "proline": {"united-atom": 12, "heavy-atom": 12, "heavy-atom-map2": 12, "core": 5, "core-map2": 5,
                "core-single": 5, "core-beta": 6, "core-beta-map2": 6, "core-beta-single": 6},
    "threonine": {"united-atom": 12, "heavy-atom": 12, "heavy-atom-map2": 12, "core": 5, "core-map2": 5,
                  "core-single": 5, "core-beta": 6, "core-beta-map2": 6, "core-beta-single": 6},
}
#: species counts per mapping, by hand
SPECIES = {
    "glycine": {
        "united-atom": {"CH3": 2, "C": 2, "O": 2, "NH": 2, "CH2": 1},
        "heavy-atom": {"C": 5, "O": 2, "N": 2},
        "heavy-atom-map2": {"CH3": 2, "C": 2, "O": 2, "NH": 2, "CH2": 1},
        "core": {"C": 3, "N": 2},
        "core-single": {"A": 5},
    },
    "proline": {
        "united-atom": {"CH3": 2, "C": 2, "O": 2, "N": 1, "CH2": 3, "CH": 1, "NH": 1},
        "heavy-atom": {"C": 8, "O": 2, "N": 2},
        "heavy-atom-map2": {"CH3": 2, "C": 2, "O": 2, "N": 1, "CH2": 3, "CH": 1, "NH": 1},
        "core": {"C": 3, "N": 2},
        "core-single": {"A": 5},
        "core-beta": {"C": 4, "N": 2},
        "core-beta-single": {"A": 6},
    },
    "threonine": {
        "united-atom": {"CH3": 3, "C": 2, "O": 2, "NH": 2, "CH": 2, "OH": 1},
        "heavy-atom": {"C": 7, "O": 3, "N": 2},
        "heavy-atom-map2": {"CH3": 3, "C": 2, "O": 2, "NH": 2, "CH": 2, "OH": 1},
        "core": {"C": 3, "N": 2},
        "core-single": {"A": 5},
        "core-beta": {"C": 4, "N": 2},
        "core-beta-single": {"A": 6},
    },
}
#: the authors' species lists, 1-based in order of first appearance (cgbench Gly2_Map, Pro2_Map, Thr2_Map)
AUTHORS = {
    "glycine": {"united-atom": [1, 2, 3, 4, 5, 2, 3, 4, 1], "heavy-atom": [1, 1, 2, 3, 1, 1, 2, 3, 1],
                "heavy-atom-map2": [1, 2, 3, 4, 5, 2, 3, 4, 1], "core": [1, 2, 1, 1, 2]},
    "proline": {"united-atom": [1, 2, 3, 4, 5, 5, 5, 6, 2, 3, 7, 1], "heavy-atom": [1, 1, 2, 3, 1, 1, 1, 1, 1, 2, 3, 1],
                "heavy-atom-map2": [1, 2, 3, 4, 5, 5, 5, 6, 2, 3, 7, 1], "core": [1, 2, 1, 1, 2],
                "core-beta": [1, 2, 1, 1, 1, 2], "core-beta-map2": [1, 2, 3, 4, 5, 6]},
    "threonine": {"united-atom": [1, 2, 3, 4, 5, 5, 1, 6, 2, 3, 4, 1], "heavy-atom": [1, 1, 2, 3, 1, 1, 1, 2, 1, 2, 3, 1],
                  "heavy-atom-map2": [1, 2, 3, 4, 5, 5, 1, 6, 2, 3, 4, 1], "core": [1, 2, 1, 1, 2],
                  "core-beta": [1, 2, 1, 1, 1, 2], "core-beta-map2": [1, 2, 3, 4, 5, 6]},
}
#: chemical bonds between the heavy atoms of the middle residue (the .rtp's), by hand
HEAVY_BONDS = {
    "GLY": {("N", "CA"), ("CA", "C"), ("C", "O")},
    "PRO": {("N", "CA"), ("CA", "CB"), ("CB", "CG"), ("CG", "CD"), ("CD", "N"), ("CA", "C"), ("C", "O")},
    "THR": {("N", "CA"), ("CA", "CB"), ("CB", "CG2"), ("CB", "OG1"), ("CA", "C"), ("C", "O")},
}
SYSTEMS = list(BEADS)


def load(name):
    system = load_system(ROOT / f"config/systems/{name}.yaml")
    return system, mappings(system, source=f"{name}.yaml")


def bond_names(spec):
    return {frozenset((spec.bead_names[i], spec.bead_names[j])) for i, j in spec.bonds}


@pytest.mark.parametrize("name", SYSTEMS)
def test_system_loads_with_its_mappings(name):
    system, maps = load(name)
    res = RESIDUE[name]
    assert system["name"] == name and system["kind"] == "solvated" and not system["periodic"]
    mol = system["molecule"]
    assert mol["sequence"] == ["ACE", res, "NME"]
    assert (mol["forcefield"], mol["water"], mol["name"]) == ("amber99sb-ildn", "tip3p", "Protein_chain_A")
    assert system["box"] == {"shape": "cubic", "margin_nm": 1.2}
    assert system["analyses"] == ["bonded", "ramachandran"]
    assert system["stability"] == {"criterion": "molecular", "max_bond_deviation_nm": 0.05}
    expected = MAPS + ([] if res == "GLY" else BETA)   # glycine has no CB, so no Core Beta
    assert list(maps) == expected
    assert {k: v.n_beads for k, v in maps.items()} == BEADS[name]
    phi = ["ACE1-C", f"{res}2-N", f"{res}2-CA", f"{res}2-C"]
    for spec in maps.values():
        assert spec.observable_kind == "dihedral"
        assert [spec.bead_names[i] for i in spec.observable_beads] == phi


def test_proline_start_structure():
    system, _ = load("proline")
    assert system["molecule"]["conformation"]["phi_deg"] == -65


@pytest.mark.parametrize("name", SYSTEMS)
def test_every_atom_is_in_its_force_field_residue(name):
    system, maps = load(name)
    seq = system["molecule"]["sequence"]
    for mname, spec in maps.items():
        seen = Counter()
        for b in spec.beads:
            res = seq[b.residue]
            assert b.name.startswith(f"{res}{b.residue + 1}-"), (mname, b.name)
            for a in b.atoms:
                assert a in ATOMS[res], (mname, b.name, a)
                seen[(b.residue, a)] += 1
            assert b.atoms[0][0] in "CNO", (mname, b.name)   # the heavy atom first (the bead's reference atom)
        assert max(seen.values()) == 1, mname
        every = {(i, a) for i, r in enumerate(seq) for a in ATOMS[r]}
        heavy = {(i, a) for i, a in every if not a.startswith("H")}
        if mname == "united-atom":   # every atom, each in the bead of its heavy atom
            assert set(seen) == every
        elif mname.startswith("heavy-atom"):
            assert set(seen) == heavy


def test_hand_copied_atoms_match_the_installed_force_field():
    ff = residue_atoms("amber99sb-ildn")
    if ff is None:
        pytest.skip("GROMACS' amber99sb-ildn.ff is not installed (./install.sh)")
    for res, atoms in ATOMS.items():
        assert ff[res] == atoms, res


@pytest.mark.parametrize("name", SYSTEMS)
def test_species(name):
    _, maps = load(name)
    for mname, counts in SPECIES[name].items():
        assert dict(Counter(b.species for b in maps[mname].beads)) == counts, mname
    for mname, ids in AUTHORS[name].items():
        assert [i + 1 for i in maps[mname].species_ids] == ids, mname
    for mname in maps:
        if mname.endswith("-map2") and mname.startswith("core"):
            assert len(maps[mname].species_names) == maps[mname].n_beads   # unique
        if mname.endswith("-single"):
            assert maps[mname].species_names == ("A",)


@pytest.mark.parametrize("name", SYSTEMS)
def test_bonds_connect_each_mapping(name):
    _, maps = load(name)
    res = RESIDUE[name]
    for mname, spec in maps.items():
        g = nx.Graph()
        g.add_nodes_from(range(spec.n_beads))
        g.add_edges_from(spec.bonds)
        assert nx.is_connected(g), mname
        # a tree, except for the proline ring in the maps that keep it (one cycle)
        ring = res == "PRO" and mname in ("united-atom", "heavy-atom", "heavy-atom-map2")
        assert len(spec.bonds) == spec.n_beads - 1 + ring, mname
    for mname in ("united-atom", "heavy-atom", "heavy-atom-map2"):
        got = bond_names(maps[mname])
        caps = {frozenset(p) for p in [("ACE1-CH3", "ACE1-C"), ("ACE1-C", "ACE1-O"), ("ACE1-C", f"{res}2-N"),
                                       (f"{res}2-C", "NME3-N"), ("NME3-N", "NME3-CH3")]}
        middle = {frozenset((f"{res}2-{a}", f"{res}2-{b}")) for a, b in HEAVY_BONDS[res]}
        assert got == caps | middle, mname
    for mname in ("core", "core-map2", "core-single"):
        assert bond_names(maps[mname]) == {frozenset(p) for p in [
            ("ACE1-C", f"{res}2-N"), (f"{res}2-N", f"{res}2-CA"), (f"{res}2-CA", f"{res}2-C"), (f"{res}2-C", "NME3-N")]}


@pytest.mark.parametrize("name", ["proline", "threonine"])
def test_core_beta_bonds_and_order(name):
    _, maps = load(name)
    res = RESIDUE[name]
    order = ["N", "CB", "CA", "C"] if res == "PRO" else ["N", "CA", "CB", "C"]   # the authors' bead order
    for mname in BETA:
        spec = maps[mname]
        assert list(spec.bead_names) == ["ACE1-C"] + [f"{res}2-{b}" for b in order] + ["NME3-N"]
        assert [b.atoms for b in spec.beads] == [("C",)] + [(b,) for b in order] + [("N",)]
        # alanine's Core Beta graph: backbone chain plus the CA-CB branch, no N-CB bond
        assert bond_names(spec) == {frozenset(p) for p in [
            ("ACE1-C", f"{res}2-N"), (f"{res}2-N", f"{res}2-CA"), (f"{res}2-CA", f"{res}2-CB"),
            (f"{res}2-CA", f"{res}2-C"), (f"{res}2-C", "NME3-N")]}
        g = nx.Graph(list(spec.bonds))
        assert nx.is_connected(g) and g.number_of_nodes() == 6 and nx.is_tree(g)


@require("gmx")
@pytest.mark.parametrize("name", SYSTEMS)
def test_pdb2gmx_names_match_the_templates(name, tmp_path):
    """The start structure of each system through pdb2gmx -ignh: the topology has exactly the
    hand-copied atoms, so every template atom exists in the real molecule."""
    from mapmatters.reference import gromacs, peptide

    system, _ = load(name)
    mol = system["molecule"]
    conf = mol["conformation"]
    pdb = tmp_path / "in.pdb"
    peptide.write_peptide_pdb(pdb, mol["sequence"], (conf["phi_deg"], conf["psi_deg"]))
    gromacs.pdb2gmx(str(pdb), mol["forcefield"], mol["water"], str(tmp_path / "p.gro"), str(tmp_path / "topol.top"),
                    workdir=str(tmp_path), log=str(tmp_path / "gmx.log"))
    assert gromacs.peptide_moleculetype(tmp_path / "topol.top") == mol["name"]
    got = {r: sorted(a) for _, r, a in gromacs.topology_residues(tmp_path / "topol.top")}
    assert got == {r: sorted(ATOMS[r]) for r in mol["sequence"]}
