"""Run aggregation, RDF errors, starting frames, and the
trajectory -> dataset conversion that feeds every model into the one analysis path."""
import numpy as np
import pandas as pd
import pytest

from mapmatters.analysis.aggregate import aggregate_runs, mean_sd, rdf_errors
from mapmatters.errors import InputError
from mapmatters.runs import start_frames


def test_aggregate_mean_and_sd_over_runs():
    x = np.array([0.5, 1.5, 2.5])
    runs = [pd.DataFrame({"angle_deg": x, "density_per_deg": y}) for y in ([1, 2, 3], [3, 2, 1], [2, 2, 2])]
    agg = aggregate_runs(runs)
    np.testing.assert_allclose(agg["density_per_deg_mean"], [2, 2, 2])
    np.testing.assert_allclose(agg["density_per_deg_sd"], [1, 0, 1])       # sample sd, ddof = 1
    assert (agg["n_runs"] == 3).all()
    with pytest.raises(InputError, match="no run to aggregate"):
        aggregate_runs([])
    with pytest.raises(InputError, match="grid"):
        aggregate_runs([runs[0], runs[1].assign(angle_deg=x + 1)])
    # one run has no spread: no sd (NaN in the tables, None in the summaries), not a zero
    one = aggregate_runs(runs[:1])
    np.testing.assert_allclose(one["density_per_deg_mean"], [1, 2, 3])
    assert one["density_per_deg_sd"].isna().all()
    assert mean_sd([4.0]) == {"mean": 4.0, "sd": None, "n": 1}


def test_rdf_error_in_units_of_1e3():
    r = np.arange(0.005, 1.0, 0.01)
    ref = pd.DataFrame({"r_nm": r, "g_A-A": np.ones_like(r)})
    model = pd.DataFrame({"r_nm": r, "g_A-A": np.ones_like(r) + 0.1})     # MSE = 0.01 = 10 x 1e-3
    err = rdf_errors([model, ref], ref)
    np.testing.assert_allclose(err["g_A-A_err_1e-3"], [10.0, 0.0])
    assert mean_sd([10.0, 0.0]) == {"mean": 5.0, "sd": pytest.approx(np.sqrt(50.0)), "n": 2}


def test_start_frames_evenly_spaced_and_distinct():
    assert start_frames(101, 4) == [25, 50, 75, 100]
    assert start_frames(1501, 5) == [300, 600, 900, 1200, 1500]
    assert len(set(start_frames(1000, 10))) == 10


def test_trajectory_to_dataset_keeps_order_drops_unstable_frames(tmp_path):
    import mdtraj

    from mapmatters.cgdata import CGDataset, CGWriter, Topology, trajectory_to_dataset

    n = 6
    top = Topology(species=np.array([0, 1] * 3), species_names=["A", "B"], bead_names=np.array(["A1", "B1"] * 3),
                   masses=np.ones(n), molecule=np.repeat(np.arange(3), 2), bonds=np.array([[0, 1], [2, 3], [4, 5]]),
                   angles=np.zeros((0, 3), int), dihedrals=np.zeros((0, 4), int), exclusions=np.array([[0, 1], [2, 3], [4, 5]]))
    template = tmp_path / "ref.h5"
    box = np.diag([2.0, 2.0, 2.0]).astype(np.float32)
    with CGWriter(template, top, periodic=True, attrs={"observable_kind": "bond", "beads_per_molecule": 2,
                                                       "n_molecules": 3, "observable_beads": np.array([0, 1])}) as w:
        w.append(np.zeros((1, n, 3), np.float32), np.zeros((1, n, 3), np.float32), box[None], [0.0], [0])
    rng = np.random.default_rng(0)
    xyz = rng.uniform(-1, 3, (10, n, 3)).astype(np.float32)      # unwrapped, as LAMMPS writes xu
    mdt = mdtraj.Topology()
    ch = mdt.add_chain()
    for _ in range(n):
        mdt.add_atom("CG", mdtraj.element.virtual, mdt.add_residue("CG", ch))
    traj = mdtraj.Trajectory(xyz, mdt, time=np.arange(10) * 0.5, unitcell_lengths=np.full((10, 3), 2.0),
                             unitcell_angles=np.full((10, 3), 90.0))
    traj.save_xtc(str(tmp_path / "t.xtc"))
    out = tmp_path / "t.h5"
    assert trajectory_to_dataset(tmp_path / "t.xtc", template, out, source="test", stop_ps=3.0) == 6
    with CGDataset(out) as ds:
        x = ds.read("positions")
        assert ds.n_frames == 6 and "forces" not in ds.f
        np.testing.assert_allclose(x, np.mod(xyz[:6], 2.0), atol=2e-3)      # xtc precision 1e-3 nm
        np.testing.assert_array_equal(ds.topology.exclusions, top.exclusions)
        assert ds.attrs["observable_kind"] == "bond"
