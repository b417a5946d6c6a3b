"""VOTCA XML generated from the mapping spec, fit grids and table completion (no tools needed)."""
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from mapmatters.classical.model import InteractionType, ModelTopology, canonical_species
from mapmatters.classical.tables import complete_table, integrate_force, lammps_table_section, read_lammps_table
from mapmatters.classical.votca import (
    FitGrid,
    FitOptions,
    choose_grid,
    effective_cutoff,
    frame_selection,
    votca_settings_xml,
    votca_topology_xml,
)
from mapmatters.errors import InputError
from mapmatters.io import load_yaml
from mapmatters.mapping import load_mappings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hexane_maps():
    return load_mappings(load_yaml(ROOT / "config/systems/hexane.yaml"))


def test_canonical_species():
    assert canonical_species("BA") == ("A", "B")
    assert canonical_species("ABBA") == ("A", "B", "B", "A")
    assert canonical_species(["B", "A", "A"]) == ("A", "A", "B")


def test_three_site_topology_xml(hexane_maps):
    model = ModelTopology.from_spec(hexane_maps["three-site"], 100, [29.062, 28.054, 29.062], "HEX")
    root = ET.fromstring(votca_topology_xml(model))
    mol = root.find("molecules/molecule")
    assert mol.get("name") == "HEX" and mol.get("nmols") == "100" and mol.get("nbeads") == "3"
    beads = [(b.get("name"), b.get("type")) for b in mol.findall("bead")]
    assert beads == [("A1", "A"), ("B1", "B"), ("A2", "A")]
    bonds = root.findall("bonded/bond")
    angles = root.findall("bonded/angle")
    assert [b.find("name").text for b in bonds] == ["bond_A-B"]
    assert bonds[0].find("beads").text.split() == ["HEX:A1", "HEX:B1", "HEX:B1", "HEX:A2"]
    assert [a.find("name").text for a in angles] == ["angle_A-B-A"]
    assert angles[0].find("beads").text.split() == ["HEX:A1", "HEX:B1", "HEX:A2"]
    assert root.find("bonded/dihedral") is None
    assert [t.name for t in model.pair_types()] == ["pair_A-A", "pair_A-B", "pair_B-B"]
    assert model.excluded_pairs() == {(0, 1), (1, 2), (0, 2)}


def test_four_site_types(hexane_maps):
    model = ModelTopology.from_spec(hexane_maps["four-site"], 10)
    names = [t.name for t in model.bonded_types()]
    assert names == ["bond_A-B", "bond_B-B", "angle_A-B-B", "dihedral_A-B-B-A"]
    two = ModelTopology.from_spec(hexane_maps["two-site"], 10)
    assert [t.name for t in two.bonded_types()] == ["bond_A-A"]
    assert [t.name for t in two.pair_types()] == ["pair_A-A"]


def test_settings_xml_structure():
    grids = [FitGrid(InteractionType("bond", ("A", "B")), 0.22, 0.28, 0.005, 0.001),
             FitGrid(InteractionType("angle", ("A", "B", "A")), 2.4, 3.1, 0.05, 0.01),
             FitGrid(InteractionType("dihedral", ("A", "B", "B", "A")), -math.pi, math.pi, 0.2, 0.01, True),
             FitGrid(InteractionType("pair", ("A", "B")), 0.36, 1.2, 0.02, 0.002)]
    root = ET.fromstring(votca_settings_xml(grids, FitOptions(frames_per_block=25), 1.2))
    assert root.find("fmatch/frames_per_block").text == "25"
    assert root.find("fmatch/constrainedLS").text == "true"
    b = root.findall("bonded")
    assert [x.find("name").text for x in b] == ["bond_A-B", "angle_A-B-A", "dihedral_A-B-B-A"]
    assert float(b[0].find("fmatch/min").text) == 0.22 and float(b[0].find("fmatch/max").text) == 0.28
    assert b[2].find("fmatch/periodic").text == "true"
    nb = root.find("non-bonded")
    assert (nb.find("type1").text, nb.find("type2").text) == ("A", "B")
    assert float(nb.find("fmatch/max").text) == 1.2


def test_cutoff_below_half_box():
    opts = FitOptions(pair_cutoff=1.5, pair_step=0.02)
    rc = effective_cutoff(opts, np.array([2.7957] * 3))
    assert rc < 2.7957 / 2 and rc == pytest.approx(1.28)
    assert effective_cutoff(FitOptions(pair_cutoff=1.2), np.array([2.7957] * 3)) == pytest.approx(1.2)


def test_choose_grid_needs_every_block():
    rng = np.random.default_rng(0)
    blocks = [rng.normal(0.25, 0.01, 2000) for _ in range(3)]
    g = choose_grid(blocks, 0.0, 0.5, 0.005, 10)
    assert 0.2 < g.trust_min < 0.235 and 0.265 < g.trust_max < 0.3
    # the spline grid reaches further, to the last bins that hold a sample in every block
    assert g.min <= g.trust_min and g.max >= g.trust_max
    g1 = choose_grid(blocks, 0.0, 0.5, 0.005, 10, extend_count=10)
    assert (g1.min, g1.max) == (g.trust_min, g.trust_max)
    # a block that misses the upper tail shrinks both ranges
    v = rng.normal(0.25, 0.01, 4000)
    blocks.append(v[v < 0.255])
    g2 = choose_grid(blocks, 0.0, 0.5, 0.005, 10)
    assert g2.max <= 0.255 + 1e-9 and g2.trust_min == pytest.approx(g.trust_min)
    # pairs: the range must end at the cut-off
    r = rng.uniform(0.3, 1.0, 5000)
    g3 = choose_grid([r, r], 0.0, 1.0, 0.02, 10, anchor="high")
    assert g3.max == pytest.approx(1.0) and 0.3 <= g3.trust_min <= 0.34 and g3.min == pytest.approx(0.3)
    assert choose_grid([np.zeros(0)], 0.0, 1.0, 0.02, 1) is None


def test_frame_selection_whole_blocks():
    assert len(frame_selection(101, FitOptions(frames_per_block=25))) == 100
    with pytest.raises(InputError):
        frame_selection(20, FitOptions(frames_per_block=25))


def test_integrate_and_complete_pair():
    # harmonic-like force F = -k (r - r0) on the fit range -> U = k/2 (r - r0)^2 + const
    k, r0 = 500.0, 0.5
    x = np.linspace(0.3, 1.0, 351)
    u = integrate_force(x, -k * (x - r0))
    assert np.allclose(u - u[0], 0.5 * k * (x - r0) ** 2 - 0.5 * k * (x[0] - r0) ** 2, atol=1e-6)
    # a pair force, repulsive at the short end: the completed table is repulsive below the fit
    f = 200.0 * np.exp(-(x - 0.3) / 0.05) - 5.0 * np.exp(-((x - 0.5) / 0.1) ** 2)
    t = complete_table(InteractionType("pair", ("A", "A")), x, f, cutoff=1.0)
    assert t.x[0] > 0 and t.x[-1] == pytest.approx(1.0)
    assert t.energy[-1] == pytest.approx(0.0)
    inner = t.x < 0.3
    assert np.all(t.force[inner] >= f[0]) and np.all(np.diff(t.energy[inner]) < 0)
    assert np.allclose(np.interp(x, t.x, t.force), f, atol=1e-6)


def test_complete_bond_and_angle():
    x = np.linspace(0.22, 0.28, 61)
    f = -2.0e4 * (x - 0.255)
    t = complete_table(InteractionType("bond", ("A", "B")), x, f)
    assert t.energy.min() == 0.0 and abs(t.x[np.argmin(t.energy)] - 0.255) < 2e-3
    assert np.all(t.force[t.x < 0.22] > 0) and np.all(t.force[t.x > 0.28] < 0)
    th = np.linspace(2.4, 3.1, 71)
    ft = 20.0 * np.ones_like(th)  # pushes towards pi everywhere it was sampled
    ta = complete_table(InteractionType("angle", ("A", "B", "A")), th, ft)
    assert ta.x[0] == 0.0 and ta.x[-1] == pytest.approx(math.pi)
    assert ta.force[-1] == pytest.approx(0.0)
    assert np.all(ta.force[ta.x < 2.4] > 0)


def test_complete_dihedral_periodic():
    phi = np.linspace(-math.pi, math.pi, 361)
    f = 3.0 * np.sin(phi - 1.0) + 0.2  # net force is removed
    t = complete_table(InteractionType("dihedral", ("A", "B", "B", "A")), phi, f)
    assert len(t.x) == 360 and t.x[0] == pytest.approx(-math.pi) and t.x[-1] < math.pi
    ref = 3.0 * np.cos(t.x - 1.0)  # F = -dU/dphi = 3 sin(phi - 1)
    assert np.allclose(t.energy - t.energy.mean(), ref - ref.mean(), atol=0.02)


def test_lammps_table_units():
    x = np.linspace(0.3, 1.0, 351)
    f = 100.0 * np.exp(-(x - 0.3) / 0.05)
    t = complete_table(InteractionType("pair", ("A", "B")), x, f, cutoff=1.0)
    text = lammps_table_section(t)
    r, e, ff = read_lammps_table(text, "pair_A-B")
    assert r[0] == pytest.approx(0.02) and r[-1] == pytest.approx(10.0)  # A
    assert np.allclose(e, t.energy / 4.184, rtol=1e-8, atol=1e-8)          # kcal/mol
    assert np.allclose(ff, t.force / 41.84, rtol=1e-8, atol=1e-8)          # kcal/mol/A
    ta = complete_table(InteractionType("angle", ("A", "B", "A")), np.linspace(2.0, 3.0, 101),
                        np.full(101, 10.0))
    th, e, fa = read_lammps_table(lammps_table_section(ta), "angle_A-B-A")
    assert th[0] == 0.0 and th[-1] == pytest.approx(180.0)
    k = np.argmin(np.abs(th - 150.0))
    assert fa[k] == pytest.approx(10.0 / 4.184 * math.pi / 180.0, rel=1e-6)  # kcal/mol/degree
