"""mapmatters.diagnose on hand-built cases whose answers are known by construction (no GROMACS)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from mapmatters.cgdata import CGWriter, Topology
from mapmatters.diagnose import (
    Atomistic,
    Thresholds,
    atom_classes,
    automorphisms,
    bond_permutation_risk,
    chirality_candidates,
    chirality_verdicts,
    diagnose_mapping,
    diagnostic_rows,
    overlap_coefficient,
    species_symmetry,
    stereocentres,
)

ROOT = Path(__file__).resolve().parents[2]

try:
    from mapmatters.mapping.spec import Bead, MappingSpec
except ImportError:   # mapmatters.mapping imports mapmatters.geometry, which is on branch geom until it lands
    @dataclass(frozen=True)
    class Bead:
        name: str
        atoms: tuple
        species: str
        residue: int | None = None

    @dataclass(frozen=True)
    class MappingSpec:
        name: str
        beads: tuple
        bonds: tuple
        observable_kind: str | None = None
        observable_beads: tuple = ()
        description: str = ""
        species_names: tuple = field(default=())

        @property
        def n_beads(self):
            return len(self.beads)

        @property
        def bead_names(self):
            return tuple(b.name for b in self.beads)


def load_system_or_skip():
    try:
        from mapmatters.system import load_system, mappings
    except ImportError as exc:
        pytest.skip(f"mapmatters.system does not import here ({exc})")
    return load_system, mappings


def make_spec(name, beads, bonds):
    """beads: [(name, atoms, species)] or [(name, atoms, species, residue)]."""
    bs = tuple(Bead(b[0], tuple(b[1]), b[2], b[3] if len(b) > 3 else None) for b in beads)
    species = tuple(dict.fromkeys(b.species for b in bs))
    return MappingSpec(name=name, beads=bs, bonds=tuple(tuple(x) for x in bonds), species_names=species)


def write_dataset(path, positions, species, bonds, *, box=None, beads_per_molecule=None, names=None):
    """A CG dataset of (F, N, 3) positions; ``box`` (3,) edge lengths or None (free space)."""
    x = np.asarray(positions, np.float32)
    f, n, _ = x.shape
    species = np.asarray(species, np.int32)
    bpm = beads_per_molecule or n
    top = Topology(species=species, species_names=[chr(65 + s) for s in range(species.max() + 1)],
                   bead_names=np.array(names or [f"B{i}" for i in range(n)]), masses=np.ones(n),
                   molecule=np.arange(n) // bpm, bonds=np.asarray(bonds, np.int64).reshape(-1, 2),
                   angles=np.zeros((0, 3), np.int64), dihedrals=np.zeros((0, 4), np.int64),
                   exclusions=np.asarray(bonds, np.int64).reshape(-1, 2))
    b = np.zeros((f, 3, 3)) if box is None else np.broadcast_to(np.diag(box), (f, 3, 3))
    with CGWriter(path, top, periodic=box is not None, attrs={"system": "test", "mapping": "test",
                                                             "beads_per_molecule": bpm}, forces=False) as w:
        w.append(x, None, b.astype(np.float32), np.arange(f, dtype=float), np.arange(f))
    return path


# --------------------------------------------------------------------------- 1. bond permutation
def dimer_box(bond, gap, row, n_x=4, n_yz=3, frames=5, noise=0.01, seed=0):
    """Rows of A-A dimers along x (bond, then ``gap`` to the next dimer), rows ``row`` nm apart."""
    rng = np.random.default_rng(seed)
    period = bond + gap
    xs = []
    for iy in range(n_yz):
        for iz in range(n_yz):
            for ix in range(n_x):
                x0 = ix * period
                xs += [[x0, iy * row, iz * row], [x0 + bond, iy * row, iz * row]]
    x = np.asarray(xs) + 0.1
    box = np.array([n_x * period, n_yz * row, n_yz * row])
    pos = (x[None] + rng.normal(0, noise, (frames,) + x.shape)) % box
    n = len(x)
    return pos, np.zeros(n, int), np.arange(n).reshape(-1, 2), box


def test_overlap_coefficient():
    assert overlap_coefficient([1, 2, 1], [2, 4, 2]) == pytest.approx(1.0)
    assert overlap_coefficient([1, 0, 0], [0, 0, 5]) == 0.0
    assert overlap_coefficient([1, 1, 0], [0, 1, 1]) == pytest.approx(0.5)
    assert overlap_coefficient([0, 0], [1, 1]) == 0.0


def test_long_bond_with_close_neighbours_is_flagged(tmp_path):
    # bond 0.6 nm, the next dimer's bead 0.45 nm away across the gap (periodic along x too)
    pos, species, bonds, box = dimer_box(bond=0.6, gap=0.45, row=1.0)
    h5 = write_dataset(tmp_path / "a.h5", pos, species, bonds, box=box, beads_per_molecule=2)
    (r,) = bond_permutation_risk(h5, Thresholds())
    assert r["bond_type"] == "A-A" and r["n_bonds"] == len(bonds) and r["n_entries"] == 2 * len(bonds)
    assert r["frames"] == 5
    assert r["closer_fraction"] == pytest.approx(1.0)      # every bead's nearest A is the other dimer's
    assert r["nonbonded_min_nm"] == pytest.approx(0.45, abs=0.06)
    assert r["flag"]


def test_short_bond_with_far_neighbours_is_not_flagged(tmp_path):
    pos, species, bonds, box = dimer_box(bond=0.3, gap=0.6, row=0.8)
    h5 = write_dataset(tmp_path / "b.h5", pos, species, bonds, box=box, beads_per_molecule=2)
    (r,) = bond_permutation_risk(h5, Thresholds(), stride=2)
    assert r["frames"] == 3                                  # frames 0, 2, 4
    assert r["overlap"] == pytest.approx(0.0, abs=1e-12)
    assert r["closer_fraction"] == 0.0
    assert r["bond_max_nm"] < 0.4 and r["nonbonded_min_nm"] > 0.5
    assert not r["flag"]


def test_overlapping_distributions_flag_by_overlap(tmp_path):
    # bond lengths spread over 0.35-0.45, gaps 0.4-0.5: the histograms share mass
    pos, species, bonds, box = dimer_box(bond=0.4, gap=0.45, row=1.0, frames=40, noise=0.03, seed=3)
    h5 = write_dataset(tmp_path / "c.h5", pos, species, bonds, box=box, beads_per_molecule=2)
    (r,) = bond_permutation_risk(h5, Thresholds(overlap_max=0.05, closer_fraction_max=1.0))
    assert r["overlap"] > 0.05 and r["flag"]


def test_free_space_without_other_beads_of_the_species(tmp_path):
    x = np.array([[[0, 0, 0], [0.3, 0, 0], [0.3, 0.3, 0]]] * 3, float)
    h5 = write_dataset(tmp_path / "d.h5", x, [0, 1, 2], [[0, 1], [1, 2]])
    rows = {r["bond_type"]: r for r in bond_permutation_risk(h5)}
    assert set(rows) == {"A-B", "B-C"}
    assert all(r["overlap"] == 0 and r["closer_fraction"] == 0 and r["nonbonded_min_nm"] is None
               for r in rows.values())


def test_chunked_streaming_equals_one_block(tmp_path):
    pos, species, bonds, box = dimer_box(bond=0.4, gap=0.45, row=1.0, frames=12, noise=0.03, seed=5)
    h5 = write_dataset(tmp_path / "e.h5", pos, species, bonds, box=box, beads_per_molecule=2)
    (one,) = bond_permutation_risk(h5)
    (many,) = bond_permutation_risk(h5, max_block_bytes=1)   # one frame per block
    assert many["overlap"] == pytest.approx(one["overlap"])
    assert many["closer_fraction"] == pytest.approx(one["closer_fraction"])


# --------------------------------------------------------------------------- 2. chirality
ALA_NAMES = ["N", "H", "CA", "HA", "CB", "HB1", "HB2", "HB3", "C", "O"]
ALA_BONDS = [(0, 1), (0, 2), (2, 3), (2, 4), (4, 5), (4, 6), (4, 7), (2, 8), (8, 9)]


def l_alanine_frames(frames=6, noise=0.01, seed=1):
    """CA at the origin, N, C, CB, HA at tetrahedral positions (L: N-CA-CB-C improper negative
    with these directions), outer atoms 0.1 nm further out along the same bond."""
    t = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3)
    d = {"N": t[0], "C": t[1], "CB": t[2], "HA": t[3]}
    x = {"CA": np.zeros(3), "N": 0.147 * d["N"], "C": 0.152 * d["C"], "CB": 0.153 * d["CB"], "HA": 0.109 * d["HA"]}
    x["H"] = x["N"] + 0.1 * np.array([1, 0, 0])
    x["O"] = x["C"] + 0.12 * np.array([0, -1, 0])
    for k, v in zip(("HB1", "HB2", "HB3"), np.eye(3)):
        x[k] = x["CB"] - 0.1 * v
    base = np.array([x[n] for n in ALA_NAMES])
    rng = np.random.default_rng(seed)
    return base[None] + rng.normal(0, noise, (frames,) + base.shape)


ALA = Atomistic.from_lists(ALA_NAMES, ALA_BONDS)
ALA_MAPS = {
    "atomistic": make_spec("atomistic", [(n, [n], n) for n in ALA_NAMES], ALA_BONDS),
    "ha-dropped": make_spec("ha-dropped", [("N", ["N", "H"], "N"), ("CA", ["CA"], "C"), ("CB", ["CB", "HB1", "HB2", "HB3"], "C"),
                                           ("C", ["C", "O"], "C")], [(0, 1), (1, 2), (1, 3)]),
    "cb-ha-dropped": make_spec("cb-ha-dropped", [("N", ["N"], "N"), ("CA", ["CA"], "C"), ("C", ["C"], "C")],
                               [(0, 1), (1, 2)]),
}


def dataset_of(tmp_path, spec, atoms_xyz):
    idx = [[ALA_NAMES.index(a) for a in b.atoms] for b in spec.beads]
    x = np.stack([atoms_xyz[:, i].mean(axis=1) for i in idx], axis=1)
    return write_dataset(tmp_path / f"{spec.name}.h5", x, spec.species_ids if hasattr(spec, "species_ids")
                         else [spec.species_names.index(b.species) for b in spec.beads], spec.bonds,
                         names=list(spec.bead_names))


def test_stereocentre_is_ca_only():
    assert stereocentres(ALA) == [ALA_NAMES.index("CA")]
    hexane = Atomistic.from_lists(["C1", "H11", "H12", "H13", "C2", "H21", "H22", "C3", "H31", "H32"],
                                  [(0, 1), (0, 2), (0, 3), (0, 4), (4, 5), (4, 6), (4, 7), (7, 8), (7, 9)])
    assert stereocentres(hexane) == []


@pytest.mark.parametrize("mapping, verdict", [("atomistic", "atomistic"), ("ha-dropped", "kept"),
                                              ("cb-ha-dropped", "lost")])
def test_chirality_verdicts(tmp_path, mapping, verdict):
    spec = ALA_MAPS[mapping]
    h5 = dataset_of(tmp_path, spec, l_alanine_frames())
    (c,) = chirality_verdicts(ALA, spec, h5, Thresholds())
    assert c["centre"] == "CA" and c["verdict"] == verdict
    if verdict == "lost":
        assert c["improper"] is None and c["sign_fraction"] is None
    else:
        assert c["improper"] == ["N", "CA", "CB", "C"]
        assert c["sign_fraction"] == 1.0
        assert 100 < c["mean_abs_improper_deg"] < 140    # ideal tetrahedron: 120 deg about CA -> CB


def test_mirror_image_flips_the_improper_sign(tmp_path):
    spec = ALA_MAPS["ha-dropped"]
    x = l_alanine_frames()
    (l,) = chirality_verdicts(ALA, spec, dataset_of(tmp_path, spec, x))
    (tmp_path / "d").mkdir()
    (d,) = chirality_verdicts(ALA, spec, dataset_of(tmp_path / "d", spec, x * np.array([-1, 1, 1])))
    assert l["sign"] == -d["sign"] and d["sign_fraction"] == 1.0


def test_kept_centre_with_a_mixed_improper_is_lost(tmp_path):
    spec = ALA_MAPS["ha-dropped"]
    x = l_alanine_frames(frames=10)
    x[5:] *= np.array([-1, 1, 1])                           # half the frames mirrored
    (c,) = chirality_verdicts(ALA, spec, dataset_of(tmp_path, spec, x), Thresholds(improper_sign_min=0.99))
    assert c["sign_fraction"] == 0.5 and c["verdict"] == "lost" and "majority sign" in c["reason"]


# --------------------------------------------------------------------------- 3. species symmetry
ELEMENTS = ["C", "N", "O", "S", "P"]


def chain(species, contents=ELEMENTS):
    return make_spec("chain", [(f"B{i}", [f"{c}{i}"], s) for i, (s, c) in enumerate(zip(species, contents))],
                     [(i, i + 1) for i in range(len(species) - 1)])


def test_automorphisms_of_a_path():
    assert automorphisms(3, [(0, 1), (1, 2)], "AAA") == [(0, 1, 2), (2, 1, 0)]
    assert automorphisms(3, [(0, 1), (1, 2)], "ABC") == [(0, 1, 2)]


@pytest.mark.parametrize("species, n_extra, word", [("ABABA", 1, "reversal"), ("ABCDE", 0, None),
                                                    ("AAAAA", 1, "reversal")])
def test_species_symmetry_of_chains(species, n_extra, word):
    s = species_symmetry(chain(species))        # every bead has its own content
    assert s["n_extra"] == n_extra and s["flag"] == bool(n_extra)
    assert s["extra"] == ([word] if word else [])


def test_core_single_like_chain_reversal_is_extra():
    s = species_symmetry(chain("AAAAA", contents=["C", "N", "C", "C", "N"]))
    assert s["contents"] == ["C", "N", "C", "C", "N"]
    assert s["n_species_automorphisms"] == 2 and s["n_content_automorphisms"] == 1
    assert s["extra"] == ["reversal"]


def test_branched_symmetry_is_named_by_bead_swaps():
    # Core Beta Single-like: C0-N1-CA2-C4-N5 with CB3 on CA2, one species
    spec = make_spec("cbs", [("C0", ["C"], "A"), ("N1", ["N"], "A"), ("CA2", ["CA"], "A"), ("CB3", ["CB"], "A"),
                             ("C4", ["C"], "A"), ("N5", ["N"], "A")], [(0, 1), (1, 2), (2, 3), (2, 4), (4, 5)])
    s = species_symmetry(spec)
    assert s["extra"] == ["permutation of beads C0<->N5, N1<->C4"]


def test_hexane_species_symmetry():
    load_system, mappings = load_system_or_skip()
    maps = mappings(load_system(ROOT / "config/systems/hexane.yaml"))
    expect = {"four-site": (2, 2, 0), "three-site": (2, 2, 0), "two-site": (2, 2, 0), "two-site-Map2": (1, 2, 0)}
    for name, (n_species, n_content, n_extra) in expect.items():
        s = species_symmetry(maps[name])
        assert (s["n_species_automorphisms"], s["n_content_automorphisms"], s["n_extra"]) == \
            (n_species, n_content, n_extra), name
    assert species_symmetry(maps["two-site"])["contents"] == ["C3H7", "C3H7"]


# --------------------------------------------------------------------------- alanine mappings from the config
ACE = ["HH31", "CH3", "HH32", "HH33", "C", "O"]
NME = ["N", "H", "CH3", "HH31", "HH32", "HH33"]


def capped_alanine() -> Atomistic:
    names = ACE + ALA_NAMES + NME
    res = [0] * 6 + [1] * 10 + [2] * 6
    resn = ["ACE"] * 6 + ["ALA"] * 10 + ["NME"] * 6
    bonds = [(0, 1), (1, 2), (1, 3), (1, 4), (4, 5), (4, 6)] + [(6 + i, 6 + j) for i, j in ALA_BONDS]
    bonds += [(14, 16), (16, 17), (16, 18), (18, 19), (18, 20), (18, 21)]
    return Atomistic.from_lists(names, bonds, residues=res, resnames=resn)


def test_alanine_mappings_chirality_structure():
    load_system, mappings = load_system_or_skip()
    maps = mappings(load_system(ROOT / "config/systems/alanine.yaml"))
    mol = capped_alanine()
    assert [mol.label(k) for k in stereocentres(mol)] == ["ALA2 CA"]
    expect = {"atomistic": "atomistic", "united-atom": "kept", "heavy-atom": "kept", "core": "lost",
              "core-single": "lost", "core-beta": "kept", "core-beta-single": "kept"}
    for name, structure in expect.items():
        (c,) = chirality_candidates(mol, maps[name])
        assert c["structure"] == structure, name
        if structure != "lost":
            assert [maps[name].bead_names[b] for b in c["improper"]] == \
                ["ALA2-N", "ALA2-CA", "ALA2-CB", "ALA2-C"], name
    assert species_symmetry(maps["core-single"], mol)["extra"] == ["reversal"]
    assert species_symmetry(maps["core"], mol)["n_extra"] == 0


# --------------------------------------------------------------------------- 4. driver and table
def test_driver_rows_and_summary(tmp_path):
    spec = ALA_MAPS["cb-ha-dropped"]
    h5 = dataset_of(tmp_path, spec, l_alanine_frames())
    res = diagnose_mapping(h5, spec, ALA, Thresholds.from_config({"overlap_max": 0.01, "stride": 2}))
    assert res["frames"] == 3 and res["thresholds"]["overlap_max"] == 0.01
    assert res["chirality"][0]["verdict"] == "lost"
    rows = diagnostic_rows(res, system="ala", mapping="cb-ha-dropped")
    assert {r["check"] for r in rows} == {"bond_permutation", "chirality", "species_symmetry"}
    assert all(list(r) == ["system", "mapping", "check", "statistic", "value", "threshold", "flag", "detail"]
               for r in rows)
    chi = next(r for r in rows if r["check"] == "chirality")
    assert chi["flag"] and chi["detail"].startswith("lost")
    assert "stereocentre CA lost" in res["summary"]
    no_centre = make_spec("hexane-like", [("A1", ["C1"], "A"), ("A2", ["C2"], "A")], [(0, 1)])
    hexane = Atomistic.from_lists(["C1", "C2"], [(0, 1)])
    pair = write_dataset(tmp_path / "pair.h5", [[[0, 0, 0], [0.15, 0, 0]]], [0, 0], [[0, 1]])
    res = diagnose_mapping(pair, no_centre, hexane)
    assert "no stereocentre" in res["summary"]
    assert [r["statistic"] for r in diagnostic_rows(res) if r["check"] == "chirality"] == ["stereocentres"]


BASELINE = Path("/work/baseline/ci/hexane/cg")


@pytest.mark.skipif(not BASELINE.is_dir(), reason="needs the mapped CI hexane reference (/work/baseline/ci)")
@pytest.mark.parametrize("mapping, flagged", [("two-site", True), ("three-site", False), ("four-site", False)])
def test_default_thresholds_on_the_ci_hexane_reference(mapping, flagged):
    rows = bond_permutation_risk(BASELINE / f"{mapping}.h5", Thresholds(), stride=2)
    assert any(r["flag"] for r in rows) == flagged


def test_table_from_json_results(tmp_path):
    import json

    import pandas as pd

    from mapmatters.diagnose import write_diagnostics_table

    paths = []
    for name in ("ha-dropped", "cb-ha-dropped"):
        spec = ALA_MAPS[name]
        (tmp_path / name).mkdir()
        res = diagnose_mapping(dataset_of(tmp_path / name, spec, l_alanine_frames()), spec, ALA)
        res["mapping"] = name
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(res))
    lines = write_diagnostics_table(paths, tmp_path / "diagnostics.csv")
    df = pd.read_csv(tmp_path / "diagnostics.csv")
    assert list(df.columns) == ["system", "mapping", "check", "statistic", "value", "threshold", "flag", "detail"]
    chi = df[df.check == "chirality"].set_index("mapping")
    assert chi.loc["ha-dropped", "detail"].startswith("kept") and not chi.loc["ha-dropped", "flag"]
    assert chi.loc["cb-ha-dropped", "flag"]
    assert len(lines) == 2 and "stereocentre CA kept" in lines[0]


def test_atom_classes_tell_chain_ends_apart():
    # O=C1-C2-C3-N (hydrogens left out): the three carbons are one element but three environments
    mol = Atomistic.from_lists(["O", "C1", "C2", "C3", "N"], [(0, 1), (1, 2), (2, 3), (3, 4)])
    cls = atom_classes(mol)
    assert len({cls[1], cls[2], cls[3]}) == 3
    # O-C1-C2-C3-O is symmetric: C1 and C3 are one class
    sym = Atomistic.from_lists(["O1", "C1", "C2", "C3", "O2"], [(0, 1), (1, 2), (2, 3), (3, 4)])
    cs = atom_classes(sym)
    assert cs[1] == cs[3] != cs[2] and cs[0] == cs[4]


def test_ca_like_map_of_an_asymmetric_chain_loses_its_direction():
    # one bead per carbon, one species (CA Single-like): the contents (C, C, C) allow the reversal,
    # the molecule (O at one end, N at the other) does not -> reported; on the symmetric molecule
    # the reversal is the molecule's own -> not reported
    spec = make_spec("ca", [("B1", ["C1"], "A"), ("B2", ["C2"], "A"), ("B3", ["C3"], "A")], [(0, 1), (1, 2)])
    asym = Atomistic.from_lists(["O", "C1", "C2", "C3", "N"], [(0, 1), (1, 2), (2, 3), (3, 4)])
    sym = Atomistic.from_lists(["O", "C1", "C2", "C3", "O2"], [(0, 1), (1, 2), (2, 3), (3, 4)])
    assert species_symmetry(spec)["n_extra"] == 0          # bead contents alone cannot see it
    s = species_symmetry(spec, asym)
    assert s["extra"] == ["reversal"] and s["compared_with"] == "atomistic environments"
    assert species_symmetry(spec, sym)["n_extra"] == 0
