"""Hexane's CG datasets are unchanged by the residue reshaping.

``tests/data/hexane_frames`` holds four frames of the ci preset's hexane reference (.tpr + .trr
with forces, GROMACS 2022.5) and ``expected_cg.npz``: what the mapping code *before* residue
templates and free-space data (commit e983ca8) made of them for every hexane mapping. Today's
code must give the same datasets to float tolerance.
"""
import numpy as np
import pytest
from conftest import ROOT

from mapmatters.cgdata import CGDataset
from mapmatters.mapping import load_mappings
from mapmatters.mapping.trajectory import map_trajectory
from mapmatters.system import load_system

DATA = ROOT / "tests/data/hexane_frames"
SYSTEM = ROOT / "config/systems/hexane.yaml"


@pytest.mark.parametrize("mapping", ["four-site", "three-site", "two-site", "two-site-Map2"])
def test_hexane_datasets_unchanged(tmp_path, mapping):
    expected = np.load(DATA / "expected_cg.npz")
    system = load_system(SYSTEM)
    spec = load_mappings(system, source=str(SYSTEM))[mapping]
    out = tmp_path / "cg.h5"
    map_trajectory(str(DATA / "production.tpr"), str(DATA / "frames.trr"), spec, system=system, out=str(out),
                   log=None)
    with CGDataset(out) as ds:
        assert ds.periodic
        for k in ("positions", "forces", "box", "time", "step"):
            np.testing.assert_allclose(ds.read(k), expected[f"{mapping}/{k}"], rtol=0, atol=1e-5, err_msg=k)
        top = ds.topology
        for k in ("species", "masses", "molecule", "bonds", "angles", "dihedrals", "exclusions"):
            np.testing.assert_array_equal(getattr(top, k), expected[f"{mapping}/topology/{k}"], err_msg=k)
        assert list(top.bead_names) == list(expected[f"{mapping}/topology/bead_names"])
        assert list(top.species_names) == list(expected[f"{mapping}/topology/species_names"])
