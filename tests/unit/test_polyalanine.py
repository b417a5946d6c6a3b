"""Capped polyalanine ACE-(ALA)15-NME (STUDY.md sections 2, 3, 6): the system YAML loads, every
mapping expands from its residue templates to what a hand count gives (beads, species, bonds),
bad templates fail with a clear error, and the start structures (helix / extended) have the
helicity and handedness they should."""
import copy
from collections import Counter

import numpy as np
import pytest
from conftest import ROOT

from mapmatters.analysis.helix import ca_indices, handedness, helicity
from mapmatters.errors import InputError
from mapmatters.io import load_yaml
from mapmatters.mapping.spec import load_mappings
from mapmatters.reference.forcefield import residue_atoms
from mapmatters.reference.protocol import start_dihedrals, start_structure
from mapmatters.system import load_system, mappings

N_ALA = 15
YAML = ROOT / "config/systems/polyalanine.yaml"

#: beads, species counts and bonds per mapping, counted by hand
#: CA: one bead per alanine; 14 CA-CA bonds.
#: Core: C(ACE) + 15 x (N, CA, C) + N(NME) = 47 beads; C: 1 + 2 x 15 = 31, N: 15 + 1 = 16;
#:   bonds: C(ACE)-N(2), per residue N-CA, CA-C and C-N(next) = 1 + 3 x 15 = 46 (a chain: beads - 1).
#: Core Beta: 47 + 15 CB = 62 beads; C: 31 + 15 = 46, N: 16; bonds 46 + 15 CA-CB = 61 (a tree).
EXPECTED = {
    "ca": (15, {f"ALA{i}-CA": 1 for i in range(2, 17)}, 14),
    "ca-single": (15, {"A": 15}, 14),
    "ca-alternating": (15, {"A": 8, "B": 7}, 14),
    "ca-symmetric": (15, {**{f"S{k}": 2 for k in range(1, 8)}, "S8": 1}, 14),
    "core": (47, {"C": 31, "N": 16}, 46),
    "core-beta": (62, {"C": 46, "N": 16}, 61),
}


@pytest.fixture(scope="module")
def system():
    return load_system(YAML)


@pytest.fixture(scope="module")
def maps(system):
    return mappings(system, source="polyalanine.yaml")


def test_system(system):
    mol = system["molecule"]
    assert mol["sequence"] == ["ACE"] + ["ALA"] * N_ALA + ["NME"]
    assert (mol["forcefield"], mol["water"]) == ("amber99sb-ildn", "tip3p")
    assert system["box"] == {"shape": "cubic", "margin_nm": 1.2}
    assert system["analyses"] == ["bonded", "permutation", "helix"]
    assert system["stability"] == {"criterion": "molecular", "max_bond_deviation_nm": 0.05}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_mapping_counts(maps, name):
    n_beads, species, n_bonds = EXPECTED[name]
    spec = maps[name]
    assert spec.n_beads == n_beads
    assert dict(Counter(b.species for b in spec.beads)) == species
    assert len(spec.species_names) == len(species)
    assert len(spec.bonds) == n_bonds
    assert len(ca_indices(spec.bead_names)) == N_ALA
    assert [spec.bead_names[i] for i in spec.observable_beads] == ["ALA8-CA", "ALA9-CA", "ALA10-CA", "ALA11-CA"]


def test_ca_species_patterns(maps):
    """Species along the chain, written out by hand."""
    assert [b.species for b in maps["ca-alternating"].beads] == list("ABABABABABABABA")
    sym = [int(b.species[1:]) for b in maps["ca-symmetric"].beads]
    assert sym == [1, 2, 3, 4, 5, 6, 7, 8, 7, 6, 5, 4, 3, 2, 1]
    assert maps["ca"].species_ids == tuple(range(15))
    assert set(maps["ca-single"].species_ids) == {0}


def test_ca_beads_and_bonds(maps):
    spec = maps["ca"]
    assert [b.name for b in spec.beads] == [f"ALA{i}-CA" for i in range(2, 17)]
    assert [(b.residue, b.atoms) for b in spec.beads] == [(i, ("CA",)) for i in range(1, 16)]
    assert spec.bonds == tuple((i, i + 1) for i in range(14))
    assert len(spec.angles()) == 13 and len(spec.dihedrals()) == 12


def test_core_beta_chain(maps):
    spec = maps["core-beta"]
    names = spec.bead_names
    assert names[:6] == ("ACE1-C", "ALA2-N", "ALA2-CA", "ALA2-CB", "ALA2-C", "ALA3-N")
    assert names[-1] == "NME17-N"
    bonds = {frozenset((names[i], names[j])) for i, j in spec.bonds}
    assert frozenset(("ACE1-C", "ALA2-N")) in bonds
    assert frozenset(("ALA16-C", "NME17-N")) in bonds
    assert frozenset(("ALA9-CA", "ALA9-CB")) in bonds
    assert sum(1 for b in bonds if any(n.endswith("-CB") for n in b)) == N_ALA


def _with(system, name, entry):
    bad = copy.deepcopy({k: system[k] for k in ("name", "kind", "molecule", "box")})
    bad["mappings"] = {name: entry}
    return bad


@pytest.mark.skipif(residue_atoms("amber99sb-ildn") is None, reason="needs GROMACS' amber99sb-ildn.ff")
def test_cap_without_ca_is_a_clear_error(system):
    """A CA map whose ACE template asks for a CA: ACE has none."""
    entry = {"residues": {"ACE": {"beads": [{"name": "CA", "atoms": ["CA"], "species": "X"}]},
                          "ALA": {"beads": [{"name": "CA", "atoms": ["CA"], "species": "X"}]},
                          "NME": {"beads": []}}}
    with pytest.raises(InputError, match="residue ACE does not have"):
        load_mappings(_with(system, "ca", entry), source="bad.yaml", residue_atoms=residue_atoms("amber99sb-ildn"))


def test_residue_without_template_is_a_clear_error(system):
    entry = {"residues": {"ALA": {"beads": [{"name": "CA", "atoms": ["CA"], "species": "X"}]}}}
    with pytest.raises(InputError, match="ACE1 of the sequence has no template"):
        load_mappings(_with(system, "ca", entry), source="bad.yaml")


def test_helix_analysis_needs_ca_beads(tmp_path):
    data = load_yaml(YAML)
    data["mappings"]["no-ca"] = {
        "residues": {"ACE": {"beads": [{"name": "C", "atoms": ["C"], "species": "C"}]},
                     "ALA": {"beads": [{"name": "CB", "atoms": ["CB"], "species": "C"}]},
                     "NME": {"beads": []}},
        "observable": {"kind": "bond", "beads": ["ALA2-CB", "ALA3-CB"]}}
    import yaml

    path = tmp_path / "polyalanine.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="mapping 'no-ca' has 0"):
        load_system(path)


def _ca_nm(atoms):
    return np.array([a.xyz for a in atoms if a.name == "CA"]) * 0.1   # Angstrom -> nm


def test_start_helix(system):
    """The small presets' start: an ideal right-handed alpha helix (-57, -47)."""
    assert start_dihedrals(system, {"start": "helix"}) == (-57.0, -47.0)
    ca = _ca_nm(start_structure(system, {"start": "helix"}))
    assert ca.shape == (N_ALA, 3)
    assert helicity(ca) > 0.95
    assert handedness(ca) > 0.03
    assert handedness(ca * np.array([1, 1, -1])) < -0.03     # its mirror image is left-handed


def test_start_extended(system):
    """The authors' start (the paper preset, and the default without `start`): an extended chain."""
    assert start_dihedrals(system, {}) == start_dihedrals(system, {"start": "extended"}) == (-139.0, 135.0)
    ca = _ca_nm(start_structure(system, {}))
    assert helicity(ca) < 0.01
    span = np.linalg.norm(ca[-1] - ca[0])
    assert span > 4.0     # 14 x ~0.33 nm: the reason for the 8.28 nm box


def test_unknown_start_is_a_clear_error(system):
    with pytest.raises(InputError, match="not one of the system's"):
        start_dihedrals(system, {"start": "beta-hairpin"})
