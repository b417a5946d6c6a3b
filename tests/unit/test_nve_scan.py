"""NVE time-step scan: the energy-drift definition, the frame rule, a scan of stiff harmonic
dimers (stable and conserving at 0.5 fs, unstable at 6 fs), resume, the figure."""
import json

import numpy as np
import pandas as pd
import pytest

from mapmatters.mlp.nve_scan import COLUMNS, energy_drift, energy_error_kT, nve_loop_config, runtime_minutes

MOLECULAR = {"criterion": "molecular", "max_bond_deviation_nm": 0.05}


def test_energy_drift_recovers_known_slope():
    """A line of slope 0.3 kJ/mol/ps plus an oscillation and noise, 60 degrees of freedom:
    0.3 / 60 per degree of freedom; per chain for (F, C); NaN for a chain that went non-finite."""
    t = np.linspace(0.1, 100.0, 1000)
    rng = np.random.default_rng(0)
    e = 50.0 + 0.3 * t + 0.5 * np.sin(2 * np.pi * t / 3.0) + 0.05 * rng.normal(size=t.size)
    assert energy_drift(e, t, 60) == pytest.approx(0.3 / 60, rel=2e-3)
    assert energy_drift(e - 0.3 * t, t, 60) == pytest.approx(0.0, abs=2e-5)
    both = np.stack([e, 20.0 - 0.06 * t, e], axis=1)
    both[500, 2] = np.nan
    d = energy_drift(both, t, 3)
    assert d.shape == (3,)
    np.testing.assert_allclose(d[:2], [0.1, -0.02], rtol=2e-3)
    assert np.isnan(d[2])
    with pytest.raises(ValueError, match="energies for"):
        energy_drift(e[:-1], t, 60)


def test_energy_error_in_kT_units():
    kT = 2.5
    e = np.array([10.0, 10.5, 9.0, 10.2])
    assert energy_error_kT(e, 4, kT) == pytest.approx(1.0 / (4 * kT))
    two = np.stack([e, [1.0, np.inf, 1.0, 1.0]], axis=1)
    out = energy_error_kT(two, 4, kT)
    assert out[0] == pytest.approx(0.1) and np.isnan(out[1])


def test_frame_rule_nearest_whole_step():
    """Frames every round(frame_every / dt) steps; enough frames to cover length_ps."""
    c = nve_loop_config(3.0, 100.0, 0.5, 300.0)
    assert c["ensemble"] == "nve" and c["dt_ps"] == 0.003
    assert c["steps_per_frame"] == 167 and c["n_frames"] == 200        # 0.501 ps, 100.2 ps
    c = nve_loop_config(0.5, 100.0, 0.5, 300.0, frames_per_chunk=7)
    assert c["steps_per_frame"] == 1000 and c["n_frames"] == 200 and c["frames_per_chunk"] == 7
    c = nve_loop_config(6.0, 1.0, 0.001, 300.0)                          # frame step below dt
    assert c["steps_per_frame"] == 1 and c["n_frames"] == 167
    paper = {"dt_fs": [0.5, 1, 2, 3, 4, 5, 6], "n_chains": 100, "length_ps": 100}
    # 100 chains x 100 ps x (2000 + 1000 + 500 + 333.3 + 250 + 200 + 166.7) steps/ps = 4.45e7 chain-steps
    assert runtime_minutes(paper, gpu=True) == int(20 + 14 + 1.5 * 4.45e7 / 1e8 * 1440)


def stiff_dimers(n_mol=6, k_b=2.0e5, r0=0.1, seed=3):
    """Dimers of two 1-amu beads on a bond of 2e5 kJ/mol/nm^2 (omega = 632 / ps: velocity Verlet
    is stable below dt = 2 / omega = 3.2 fs) with soft repulsion, periodic 1.6 nm box."""
    from jax_md import partition, space

    from mapmatters.simulate import md
    from mapmatters.simulate import potentials as P

    d = P.synthetic_dimers(4, n_mol=n_mol, r0=r0, bond_sd=0.003, seed=seed, k_b=k_b)
    n = d["R"].shape[1]
    efn = P.harmonic_bonds_soft_repulsion(d["bonds"], n, d["box"], k_b=k_b, r0=r0)
    disp, _ = space.periodic(d["box"])
    nf = partition.neighbor_list(disp, d["box"], 0.45, format=partition.Sparse, disable_cell_list=True)
    return md.System(efn, nf, np.ones(n), d["box"]), d


# 1-amu beads move fast: room for 64 edges (about 1.7x the busiest frame) saves re-allocations, which
# recompile the loop
SCAN = dict(length_ps=2.0, frame_every_ps=0.1, temperature_K=300.0, stability=MOLECULAR, frames_per_chunk=5,
            identity={"test": "stiff dimers"}, capacity=64)


class Killed(Exception):
    pass


def test_scan_stable_small_dt_unstable_large_dt_and_resume(tmp_path, monkeypatch):
    """A scan over [0.5, 6] fs dies right after writing the 0.5 fs row; the rerun over
    [0.5, 2, 6] fs runs only 2 and 6 fs. At 0.5 fs every chain is stable and the total energy
    is conserved; at 2 fs still stable, but the energy error is much larger (Verlet: ~dt^2);
    at 6 fs (beyond 2 / omega) every chain breaks its bonds. Another set-up (seeds) in the same
    work folder is not mistaken for a finished row."""
    pytest.importorskip("jax_md", reason="needs jax-md")
    from mapmatters.mlp import nve_scan
    from mapmatters.simulate import md

    system, d = stiff_dimers()
    common = dict(bonds=d["bonds"], reference_nm=np.full(len(d["bonds"]), 0.1), **SCAN)
    out = tmp_path / "nve_scan.csv"
    work = tmp_path / "nve_scan_work"

    def die_after_first_row(m):
        if m.startswith("[nve_scan] dt 0.5 fs:") and "stable," in m:
            raise Killed(m)

    with pytest.raises(Killed):
        nve_scan.scan_system(system, d["R"], [0, 1, 2, 3], out, dt_fs=[0.5, 6], seeds=[1, 2, 3, 4],
                             log=die_after_first_row, **common)
    assert not out.exists()
    assert (work / "dt0.5fs" / "row.json").exists() and not (work / "dt6fs").exists()

    calls = []
    real_run = md.run

    def counting_run(system, R0, out_path, config=None, **kw):
        calls.append(config["dt_ps"])
        return real_run(system, R0, out_path, config, **kw)

    monkeypatch.setattr(md, "run", counting_run)
    logs = []
    rows = nve_scan.scan_system(system, d["R"], [0, 1, 2, 3], out, dt_fs=[0.5, 2, 6], seeds=[1, 2, 3, 4],
                                log=logs.append, **common)
    assert calls == [0.002, 0.006]
    assert any("dt 0.5 fs: done before" in m for m in logs)
    df = pd.read_csv(out)
    assert list(df.columns) == COLUMNS and df["dt_fs"].tolist() == [0.5, 2.0, 6.0]
    assert len(rows) == 3
    small, mid, big = (df.iloc[i] for i in range(3))
    assert small["stable_fraction"] == 1.0 and small["n_stable"] == 4 and small["stable_ps_mean"] == 2.0
    assert small["abs_drift_kJ_mol_ps_dof_mean"] < 1e-3 and small["energy_error_kT_mean"] < 0.01
    assert mid["stable_fraction"] == 1.0
    assert mid["energy_error_kT_mean"] > 4 * small["energy_error_kT_mean"]
    assert mid["abs_drift_kJ_mol_ps_dof_mean"] > small["abs_drift_kJ_mol_ps_dof_mean"]
    assert big["stable_fraction"] == 0.0 and big["stable_ps_mean"] < 1.0
    assert np.isnan(big["drift_kJ_mol_ps_dof_mean"])
    assert small["steps_per_frame"] == 200 and mid["steps_per_frame"] == 50 and small["length_ps"] == 2.0
    assert big["steps_per_frame"] == 17 and big["length_ps"] == pytest.approx(20 * 0.102)
    rec = json.loads((work / "dt2fs" / "row.json").read_text())
    assert len(rec["chains"]) == 4 and rec["n_dof"] == 3 * 12 - 3
    assert not (work / "dt2fs" / "traj.h5").exists()
    with np.load(work / "dt2fs" / "energies.npz") as e:
        assert e["epot_kJ_mol"].shape == (20, 4)

    # a finished scan is not rerun; other seeds in the same work folder clear it and rerun
    calls.clear()
    nve_scan.scan_system(system, d["R"], [0, 1, 2, 3], out, dt_fs=[0.5, 2, 6], seeds=[1, 2, 3, 4],
                         log=logs.append, **common)
    assert calls == []
    logs.clear()
    nve_scan.scan_system(system, d["R"], [0, 1, 2, 3], tmp_path / "other.csv", dt_fs=[6], seeds=[5, 6, 7, 8],
                         log=logs.append, work_dir=work, **common)
    assert calls == [0.006] and any("another set-up" in m for m in logs)
    assert json.loads((work / "dt6fs" / "row.json").read_text())["key"]["seeds"] == [5, 6, 7, 8]


def test_nve_table_and_figure(tmp_path):
    from mapmatters.figures.nve import nve_table, plot_nve

    entries = []
    for m, limit in (("atomistic", 1.0), ("heavy-atom", 2.0)):
        dts = [0.5, 1, 2, 3]
        df = pd.DataFrame({c: np.nan for c in COLUMNS}, index=range(4))
        df["dt_fs"] = dts
        df["stable_fraction"] = [1.0 if dt <= limit else 0.1 for dt in dts]
        df["abs_drift_kJ_mol_ps_dof_mean"] = [1e-5 * dt ** 2 for dt in dts]
        df.loc[3, "abs_drift_kJ_mol_ps_dof_mean"] = np.nan      # no stable chain: no drift
        path = tmp_path / f"{m}.csv"
        df.to_csv(path, index=False)
        entries.append({"system": "alanine", "variant": "mace", "mapping": m, "csv": str(path)})
    table = nve_table(entries, tmp_path / "tables" / "nve_scan.csv")
    assert list(table.columns[:3]) == ["system", "mapping", "variant"] and len(table) == 8
    back = pd.read_csv(tmp_path / "tables" / "nve_scan.csv")
    assert back.loc[back["mapping"] == "heavy-atom", "stable_fraction"].tolist() == [1.0, 1.0, 1.0, 0.1]
    plot_nve(table, tmp_path / "f.png", tmp_path / "f.pdf", title="t")
    assert (tmp_path / "f.png").stat().st_size > 1000 and (tmp_path / "f.pdf").exists()
    with pytest.raises(ValueError, match="no NVE scan"):
        nve_table([], tmp_path / "empty.csv")


@pytest.mark.slow   # about 95 s here: mlip import and MACE compilation
def test_scan_driver_on_a_saved_model(tmp_path):
    """``scan`` from a parameter file and a mapped reference: a tiny (untrained, damped) MACE on
    a periodic dimer dataset; start frames as the NVT runs, seeds seed*1000+k, the molecular
    criterion against the dataset's mean bond lengths, the parameter file's hash in the key."""
    from mapmatters.mlp import compat

    ok, why = compat.stack_available()
    if not ok:
        pytest.skip(why)
    import jax
    import jax.numpy as jnp

    from mapmatters.cgdata import CGWriter, Topology
    from mapmatters.mlp import model as M
    from mapmatters.mlp.nve_scan import file_sha256, scan
    from mapmatters.runs import start_frames
    from mapmatters.simulate import potentials as P

    d = P.synthetic_dimers(6, seed=4)
    n = d["R"].shape[1]
    top = Topology(species=d["species"], species_names=["A", "B"], bead_names=np.array(["A", "B"] * (n // 2)),
                   masses=d["masses"], molecule=np.repeat(np.arange(n // 2), 2), bonds=d["bonds"],
                   angles=np.zeros((0, 3), int), dihedrals=np.zeros((0, 4), int), exclusions=d["bonds"])
    ds = tmp_path / "ref.h5"
    with CGWriter(ds, top, periodic=True, attrs={"observable_kind": "bond", "observable_beads": [0, 1],
                                                 "beads_per_molecule": 2, "n_molecules": n // 2}) as w:
        w.append(d["R"], d["F"], np.repeat(np.diag(d["box"])[None], 6, 0).astype(np.float32), np.arange(6) * 0.2,
                 np.arange(6))
    cfg = {"num_layers": 1, "correlation": 1, "hidden_irreps": "4x0e + 4x1o", "max_ell": 1, "radial_mlp_hidden": [8]}
    m = M.build(cfg, d["species"], d["box"])
    params = m.init(jax.random.PRNGKey(0), d["R"][0], m.neighbor_fn().allocate(jnp.asarray(d["R"][0])))
    M.save_params(tmp_path / "params.pkl", jax.tree.map(lambda x: 1e-3 * x, params), m.config)
    out = tmp_path / "nve_scan.csv"
    rows = scan(str(tmp_path / "params.pkl"), str(ds), str(out), dt_fs=[1.0], n_chains=2, length_ps=0.2,
                frame_every_ps=0.1, temperature_K=300.0, stability=MOLECULAR, seed=7, frames_per_chunk=1,
                log=lambda m: None)
    df = pd.read_csv(out)
    assert len(rows) == 1 and df["n_chains"].tolist() == [2] and df["steps_per_frame"].tolist() == [100]
    rec = json.loads((tmp_path / "nve_scan_work" / "dt1fs" / "row.json").read_text())
    assert rec["key"]["identity"] == {"params_sha256": file_sha256(tmp_path / "params.pkl")}
    assert [c["start_frame"] for c in rec["chains"]] == start_frames(6, 2)
    assert [c["seed"] for c in rec["chains"]] == [7000, 7001]
    assert all(0 < c["stable_ps"] <= 0.2 for c in rec["chains"]) and rec["n_dof"] == 3 * n - 3
