"""The ci preset through the real tools (GROMACS, MDAnalysis, mdtraj) via snakemake."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, require

from mapmatters.cgdata import CGDataset
from mapmatters.errors import InputError

pytestmark = [pytest.mark.integration, require("gmx")]

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
MAPPINGS = ["four-site", "three-site", "two-site", "two-site-Map2"]


def snakemake(*args, check=True):
    proc = subprocess.run([SNAKEMAKE, *args], cwd=ROOT, text=True, capture_output=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    snakemake("--cores", "2", "--configfile", "config/presets/ci.yaml", "--config", f"results={results}")
    return results / "ci"


def test_summary(ci_run):
    s = json.loads((ci_run / "hexane/reference/summary.json").read_text())
    assert s["n_atoms"] == 2000
    assert s["n_frames"] == 101                       # 10 ps / (100 x 1 fs) + the first frame
    assert abs(s["density_g_cm3"] - 0.655) < 0.002    # 100 C6H14 in a 2.7957 nm cube
    assert 280 < s["temperature_mean_K"] < 320        # 10 ps: loose; the default run reports +-3 K
    assert "mappings" not in s          # a new mapping leaves the reference summary alone
    for name in MAPPINGS:
        st = json.loads((ci_run / f"hexane/cg/{name}.stats.json").read_text())
        assert st["force_sum_rel_dev"] < 1e-5, name


def test_cg_datasets(ci_run):
    beads = {"four-site": 4, "three-site": 3, "two-site": 2, "two-site-Map2": 2}
    for m in MAPPINGS:
        with CGDataset(ci_run / f"hexane/cg/{m}.h5") as ds:
            assert ds.n_frames == 101 and ds.n_beads == 100 * beads[m]
            x = ds.read("positions")
            box = ds.read("box")
            assert np.all(x >= 0) and np.all(x <= box[:, None, [0, 1, 2], [0, 1, 2]] + 1e-5)
            t = ds.read("time")
            assert np.all(np.diff(t) > 0)
            assert ds.attrs["unit_forces"] == "kJ/mol/nm"


def test_distributions(ci_run):
    for m in MAPPINGS:
        d = ci_run / f"hexane/analysis/reference/{m}"
        assert (d / "distributions.png").stat().st_size > 10_000
        rdf = pd.read_csv(d / "rdf.csv")
        assert rdf.columns[0] == "r_nm"
        assert np.isclose(rdf["r_nm"].diff().dropna(), 0.01).all()
        assert rdf["r_nm"].max() <= 2.7957 / 2 + 1e-9
        # liquid structure: g ~ 1 at long range, no overlaps at short range
        g = rdf[rdf.columns[1]].to_numpy()
        assert abs(g[rdf["r_nm"] > 1.0].mean() - 1.0) < 0.1
        assert g[rdf["r_nm"] < 0.2].max() == 0
        bonded = pd.read_csv(d / "bonded.csv")
        assert any(c.endswith(("_deg", "_nm")) for c in bonded.columns)
    ang = pd.read_csv(ci_run / "hexane/analysis/reference/three-site/bonded.csv")
    x, p = ang.iloc[:, 0].to_numpy(), ang.iloc[:, 1].to_numpy()
    # A-B-A angle of hexane: all-trans puts the three bead centres on a line (180 deg), gauche
    # conformers give the shoulders near 155 and 125 deg; the mode is in the 160-180 range
    assert 150 < x[np.argmax(p)] <= 180


def test_rerun_is_a_no_op(ci_run):
    out = snakemake("-n", "--cores", "2", "--configfile", "config/presets/ci.yaml",
                    "--config", f"results={ci_run.parent}")
    assert "Nothing to be done" in out.stdout + out.stderr


def test_trajectory_without_forces_is_rejected(ci_run, tmp_path):
    import MDAnalysis as mda

    from mapmatters.mapping import load_mappings
    from mapmatters.mapping.trajectory import map_trajectory
    from mapmatters.system import load_system

    ref = ci_run / "hexane/reference"
    u = mda.Universe(str(ref / "production.tpr"), str(ref / "production.trr"))
    noforce = tmp_path / "noforces.trr"
    with mda.Writer(str(noforce), n_atoms=len(u.atoms), forces=False) as w:
        for ts in u.trajectory[:3]:
            ts.has_forces = False
            w.write(u.atoms)
    system = load_system(ROOT / "config/systems/hexane.yaml")
    spec = load_mappings(system)["three-site"]
    out = tmp_path / "x.h5"
    with pytest.raises(InputError, match="has no forces.*nstfout"):
        map_trajectory(str(ref / "production.tpr"), str(noforce), spec, system=system, out=str(out), log=None)
    assert not out.exists() and not list(tmp_path.glob(".x.*"))     # nothing half-written

    subset = tmp_path / "subset.trr"
    with mda.Writer(str(subset), n_atoms=40) as w:
        for ts in u.trajectory[:2]:
            w.write(u.atoms[:40])
    with pytest.raises(InputError, match="do not match|atoms"):
        map_trajectory(str(ref / "production.tpr"), str(subset), spec, system=system, out=str(out), log=None)
    assert not out.exists()


def test_paper_preset_dry_run_lists_paper_parameters(tmp_path):
    out = snakemake("-n", "--cores", "2", "--configfile", "config/presets/paper.yaml",
                    "--config", f"results={tmp_path}")
    text = out.stdout + out.stderr
    assert "preset 'paper'" in text
    assert "production 100 ns at dt 1 fs" in text and "every 200 steps = 500000 frames" in text
    assert "reference_production" in text and "map_reference" in text


def test_bad_config_value_stops_with_key(tmp_path):
    out = snakemake("-n", "--cores", "1", "--configfile", "config/presets/ci.yaml",
                    "--config", f"results={tmp_path}", "analysis={'frame_stride': 0, 'rdf_dr_nm': 0.01, "
                    "'bond_r_max_nm': 1.0, 'bins': {'bond_nm': 0.01, 'angle_deg': 2, 'dihedral_deg': 2}}", check=False)
    assert out.returncode != 0
    assert "analysis.frame_stride" in out.stdout + out.stderr
    assert not any(tmp_path.iterdir())


def test_production_resumes_from_checkpoint_after_kill(ci_run, tmp_path):
    """SIGKILL a production run mid-way; the rerun continues from the GROMACS checkpoint."""
    import signal
    import time

    import MDAnalysis as mda

    ref = ci_run / "hexane/reference"
    work = tmp_path / "work"
    params = {"cutoff_nm": 1.2, "dt_ps": 0.001, "production_ps": 12, "temperature_K": 300.0,
              "tau_t_ps": 1.0, "output_every_steps": 100, "checkpoint_minutes": 0.002, "threads": 1}
    outs = [str(tmp_path / f"prod.{x}") for x in ("tpr", "trr", "edr")]
    call = (f"from mapmatters.reference.protocol import produce; "
            f"produce({str(ref / 'equil.gro')!r}, {str(ref / 'equil.cpt')!r}, {str(ref / 'topol.top')!r}, "
            f"{params!r}, {outs[0]!r}, {outs[1]!r}, {outs[2]!r}, kind='liquid', seed=5, workdir={str(work)!r}, "
            f"log={str(tmp_path / 'log')!r})")
    proc = subprocess.Popen([sys.executable, "-c", call], cwd=ROOT, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline:
        cpt = work / "prod.cpt"
        if cpt.exists() and (work / "prod.trr").exists() and (work / "prod.trr").stat().st_size > 1_500_000:
            break
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "prod.trr").exists()          # nothing finished was published

    from mapmatters.reference.protocol import produce
    info = produce(str(ref / "equil.gro"), str(ref / "equil.cpt"), str(ref / "topol.top"), params, *outs,
                   kind="liquid", seed=5, workdir=str(work), log=str(tmp_path / "log"))
    assert info["resumed"] is True
    assert "resuming production" in (tmp_path / "log").read_text()
    u = mda.Universe(outs[0], outs[1])
    times = np.array([ts.time for ts in u.trajectory])
    assert len(times) == 121 and np.all(np.diff(times) > 0)     # 0..12 ps every 0.1 ps, no duplicates
    assert np.isclose(times[-1], 12.0)


def test_classical_models_through_votca_and_lammps(ci_run):
    import mdtraj

    for m in ("four-site", "three-site", "two-site"):
        d = ci_run / f"hexane/classical/{m}"
        fit = json.loads((d / "fit.json").read_text())
        tables = json.loads((d / "tables.json").read_text())["tables"]
        assert any(k.startswith("pair_") for k in tables) and any(k.startswith("bond_") for k in tables)
        if m == "four-site":
            assert "dihedral_A-B-B-A" in tables
        if m == "three-site":
            assert "angle_A-B-A" in tables
        assert (d / "potentials.png").stat().st_size > 10_000
        s = json.loads((d / "summary.json").read_text())
        assert s["n_runs"] == 2 and s["speed_ns_per_day"] > 0
        assert 0 < s["stability_ps"]["mean"] <= 10.0
        assert set(s["rdf_error_1e-3"]) >= {"g_A-A"}
        run = json.loads((d / "run0/run.json").read_text())
        t = mdtraj.load(str(d / "run0/traj.xtc"), top=str(d / "run0/cg.pdb"))
        assert t.n_frames == run["n_frames"] == 21           # 10 ps, a frame every 0.5 ps, plus t = 0
        assert np.isclose(t.time[-1] - t.time[0], 10.0)
        # 101 frames in whole blocks of 25: VOTCA fits 4 blocks = 100 frames
        assert fit["n_frames"] == 100 and fit["fmatch_wall_s"] > 0 and fit["n_blocks"] == 4
    assert (ci_run / "figures/figure1.png").stat().st_size > 50_000
    assert (ci_run / "figures/figure1.pdf").exists()


def test_report_holds_every_figure_and_table(ci_run, tmp_path):
    import zipfile

    report = tmp_path / "report.zip"
    snakemake("--configfile", "config/presets/ci.yaml", "--config", f"results={ci_run.parent}",
              "--report", str(report))
    names = zipfile.ZipFile(report).namelist()
    made = [p.name for p in ci_run.rglob("*.png")] + [p.name for p in (ci_run / "tables").glob("*.csv")]
    for name in ("figure1.png", "distributions.png", "potentials.png", "classical_hexane.csv"):
        assert any(n.endswith(name) for n in names), name
    # every PNG and table the run made is in the report
    assert len([n for n in names if n.endswith((".png", ".csv"))]) >= len(made)
    captions = " ".join(zipfile.ZipFile(report).read(n).decode(errors="ignore") for n in names
                        if n.endswith(".html"))
    assert "Preset: ci" in captions


def test_provenance(ci_run):
    p = json.loads((ci_run / "provenance.json").read_text())
    assert p["preset"] == "ci" and p["config"]["reference"]["hexane"]["production_ps"] == 10
    assert p["versions"]["tools"]["gromacs"].startswith("2022")
    assert p["versions"]["tools"]["votca"].startswith("2022")
    assert "2021" in p["versions"]["tools"]["lammps"] or "2022" in p["versions"]["tools"]["lammps"]
    assert p["seeds"]["hexane"]["production"] > 0
    assert len(p["seeds"]["hexane"]["classical/three-site"]) == 2


def test_workflow_killed_during_production_resumes_without_recomputing(tmp_path):
    """SIGKILL the whole snakemake process group mid-production; the rerun resumes mdrun from
    its checkpoint and does not recompute the finished upstream outputs."""
    import signal
    import time

    extra = tmp_path / "longer.yaml"
    extra.write_text("reference:\n  hexane:\n    production_ps: 12\n    checkpoint_minutes: 0.01\n")
    target = f"{tmp_path}/ci/hexane/reference/production.trr"
    args = ["--cores", "2", "--configfile", "config/presets/ci.yaml", str(extra), "--config", f"results={tmp_path}"]
    proc = subprocess.Popen([SNAKEMAKE, target, *args], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = tmp_path / "ci/hexane/reference/work/production"
    # generous: minimisation and equilibration come first, and a loaded machine (another GROMACS
    # run beside the suite) took over 600 s to reach the production
    deadline = time.time() + 1800
    while time.time() < deadline and proc.poll() is None:
        trr = work / "prod.trr"
        if (work / "prod.cpt").exists() and trr.exists() and trr.stat().st_size > 1_200_000:  # ~2.5 of 12 ps
            break
        time.sleep(0.5)
    assert proc.poll() is None, "snakemake ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (work / "prod.cpt").exists(), "the production had not reached its first checkpoint in 1800 s"
    finished = {p: p.stat().st_mtime_ns for p in (tmp_path / "ci/hexane/reference").glob("*.gro")}
    assert {p.name for p in finished} == {"box.gro", "em.gro", "equil.gro"}
    assert not (tmp_path / "ci/hexane/reference/production.trr").exists()

    snakemake(target, "--unlock", *args)          # a killed snakemake leaves its lock behind
    out = snakemake(target, "--rerun-incomplete", *args)
    text = out.stdout + out.stderr
    assert "reference_production" in text
    for rule in ("reference_box", "reference_minimise", "reference_equilibrate"):
        assert f"rule {rule}:" not in text, f"{rule} was recomputed"
    assert {p: p.stat().st_mtime_ns for p in finished} == finished
    log = (tmp_path / "ci/logs/hexane/reference_production.log").read_text()
    assert "resuming production" in log
    import MDAnalysis as mda

    u = mda.Universe(str(tmp_path / "ci/hexane/reference/production.tpr"), target)
    times = np.array([ts.time for ts in u.trajectory])
    assert len(times) == 121 and np.all(np.diff(times) > 0)


MLP = ("mace-nu1-L1-N20", "mace-nu2-L2-N20")


def test_mlp_models_trained_simulated_and_analysed(ci_run):
    """chemtrain training -> JAX-MD runs -> shared analysis, for every model the ci figures need."""
    for v in MLP:
        for m in ("three-site", "two-site"):
            d = ci_run / "hexane/mlp" / v / m
            met = json.loads((d / "metrics.json").read_text())
            assert met["r_cut_from"] == "n_avg" and met["n_avg_target"] == 20
            # the cut-off was set so that beads have 20 neighbours on average in the training data
            assert met["neighbours"]["avg_neighbors"] == pytest.approx(20, abs=0.5)
            assert met["testing_force_error"]["rmse_mev_a"] > 0 and met["n_frames"]["testing"] == 10
            rec = json.loads((d / "md/md.json").read_text())
            assert rec["n_chains"] == 2 and rec["md_config"]["friction_per_ps"] == 100.0
            summ = json.loads((d / "summary.json").read_text())
            assert summ["n_runs"] == 2 and summ["length_ps"] == 2
            assert 0 <= summ["stability_ps"]["mean"] <= 2
            assert summ["speed_ns_per_day"] > 0
            assert "events_per_entry_per_ns" in summ["permutation"]
            import h5py

            with h5py.File(d / "md/traj.h5") as f:
                assert f["positions"].shape[:2] == (4, 2) and np.all(np.diff(f["time"][()]) > 0)
            assert not (d / "md/work/traj.h5").exists()
    nn = pd.read_csv(ci_run / "hexane/mlp/mace-nu2-L2-N20/two-site/nn_runs.csv")
    assert list(nn.columns[:1]) == ["distance_nm"]
    ref = json.loads((ci_run / "hexane/analysis/reference/two-site/permutation.json").read_text())
    assert ref["frames"] == 101 and ref["entries"] == 200


def test_table1_and_figure2(ci_run):
    t = pd.read_csv(ci_run / "tables/table1.csv")
    assert len(t) == 4 and set(t["mapping"]) == {"three-site", "two-site"}
    assert t["force_rmse_mev_a"].notna().all() and (t["speed_ns_per_day"] > 0).all()
    md = (ci_run / "tables/table1.md").read_text()
    assert "| three-site | Force RMSE (meV/Å) ↓ |" in md
    assert (ci_run / "figures/figure2.png").stat().st_size > 10_000
    perm = pd.read_csv(ci_run / "tables/permutations.csv")
    assert set(perm["system"]) == {"hexane", "alanine"}
    perm = perm[perm["system"] == "hexane"]
    assert len(perm) == 4 and perm["reference_fraction_permuted"].notna().all()


def _kill_when(proc, ready, timeout=600):
    import signal
    import time

    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.5)
    assert proc.poll() is None, "snakemake ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_workflow_killed_during_training_and_md_resumes(ci_run, tmp_path):
    """SIGKILL the workflow mid-training, then mid-MD: each rerun continues from the last epoch
    checkpoint / MD chunk and recomputes no finished output."""
    import shutil

    shutil.copytree(ci_run / "hexane/cg", tmp_path / "ci/hexane/cg")   # keeps mtimes: no re-mapping
    extra = tmp_path / "longer.yaml"
    # (the ci preset gives this variant its own length, which the override names again)
    extra.write_text("mlp:\n  hexane:\n    train:\n      epochs: 20\n    md:\n      length_ps: 5\n"
                     "      length_ps_by_variant: {mace-nu1-L1-N20: 5}\n      frames_per_chunk: 1\n")
    d = tmp_path / "ci/hexane/mlp/mace-nu1-L1-N20/two-site"
    args = ["--cores", "2", "--configfile", "config/presets/ci.yaml", str(extra), "--config", f"results={tmp_path}"]

    def start(target):
        return subprocess.Popen([SNAKEMAKE, target, *args], cwd=ROOT, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # training: kill once at least two epochs are checkpointed (later epochs take < 1 s here,
    # so the kill may land a few epochs later; the resume point is read from the log)
    params = str(d / "params.pkl")
    _kill_when(start(params), lambda: "epoch 2/20" in ((d / "train.log").read_text()
                                                        if (d / "train.log").exists() else ""))
    assert not (d / "params.pkl").exists() and (d / "checkpoint.pkl").exists()
    snakemake(params, "--unlock", *args)
    snakemake(params, "--rerun-incomplete", *args)
    log = (d / "train.log").read_text()
    assert "[resume]" in log
    at = int(log.split("[resume]")[1].splitlines()[0].split("at epoch ")[1])
    assert 2 <= at < 20
    after = log.split("[resume]")[1]
    epochs = [int(line.split("epoch ")[1].split("/")[0]) for line in after.splitlines()
              if "/20 train_mse" in line]
    assert epochs == list(range(at + 1, 21))     # nothing checkpointed was trained again
    trained = (d / "params.pkl").stat().st_mtime_ns

    # MD: kill once a few chunks are on disk
    record = str(d / "md/md.json")
    state = d / "md/work/traj.h5.state.npz"
    _kill_when(start(record), lambda: _frames_done(state) >= 4)
    assert not (d / "md/md.json").exists()
    snakemake(record, "--unlock", *args)
    out = snakemake(record, "--rerun-incomplete", *args)
    assert "rule mlp_train:" not in out.stdout + out.stderr
    assert (d / "params.pkl").stat().st_mtime_ns == trained
    log = (tmp_path / "ci/logs/hexane/mlp_md_mace-nu1-L1-N20_two-site.log").read_text()
    assert "[md] resume" in log
    import h5py

    with h5py.File(d / "md/traj.h5") as f:
        t = f["time"][()]
        assert len(t) == 10 and np.allclose(t, 0.5 * np.arange(1, 11))


def _frames_done(state):
    """Frames of the last completed MD chunk, from the (atomically replaced) state file."""
    try:
        return int(np.load(state)["n_frames_done"])
    except (OSError, KeyError, ValueError):
        return 0


ALANINE_BEADS = {"atomistic": 22, "united-atom": 10, "heavy-atom": 10, "heavy-atom-map2": 10, "core": 5,
                 "core-map2": 5, "core-single": 5, "core-beta": 6, "core-beta-map2": 6, "core-beta-single": 6}


def test_alanine_built_from_sequence_solvated_and_unconstrained(ci_run):
    s = json.loads((ci_run / "alanine/reference/summary.json").read_text())
    assert s["kind"] == "solvated" and s["n_solute_atoms"] == 22
    assert s["n_frames"] == 41                              # 4 ps, every 100 steps of 1 fs, + t = 0
    assert 3.0 < s["box_nm"][0] < 3.4                        # cubic, 1.2 nm margin (the authors': 3.279 nm)
    assert 0.95 < s["density_g_cm3"] < 1.05                  # TIP3P water after NPT
    assert s["solute_unconstrained"] and s["constrained_molecule_types"] == {"SOL": {"Settle": 1}}
    top = (ci_run / "alanine/reference/topol.top").read_text()
    assert "amber99sb-ildn.ff/forcefield.itp" in top and "tip3p.itp" in top


def test_alanine_free_space_cg_data(ci_run):
    """Water dropped, molecule whole, no box; forces summed; where the phi beads are single atoms,
    phi from the CG beads equals mdtraj's phi of the atomistic reference (United Atom's N and CA
    beads carry their hydrogens, so its phi is that of the bead centres)."""
    import mdtraj

    from mapmatters.geometry import dihedrals, distances

    ref = ci_run / "alanine/reference"
    t = mdtraj.load(str(ref / "production.trr"), top=str(ref / "em.gro"))
    t = t.atom_slice(t.topology.select("protein"))
    _, phi_ref = mdtraj.compute_phi(t)
    for m, n in ALANINE_BEADS.items():
        with CGDataset(ci_run / f"alanine/cg/{m}.h5") as ds:
            assert not ds.periodic and ds.n_beads == n and ds.n_frames == 41
            assert np.all(ds.read("box") == 0)
            x = ds.read("positions")
            d = distances(x.astype(np.float64), ds.topology.bonds)
            assert d.max() < 0.3, m                        # whole: no bond across a box face
            names = list(ds.topology.bead_names)
            quad = [names.index(b) for b in ("ACE1-C", "ALA2-N", "ALA2-CA", "ALA2-C")]
            phi = np.degrees(dihedrals(x.astype(np.float64), [quad]))[:, 0]
            if m == "united-atom":
                assert np.abs(phi - np.degrees(phi_ref[:, 0])).max() < 15, m
            else:
                assert np.allclose(phi, np.degrees(phi_ref[:, 0]), atol=0.05), m
        st = json.loads((ci_run / f"alanine/cg/{m}.stats.json").read_text())
        assert st["force_sum_rel_dev"] < 1e-5 and st["n_molecules"] == 1
    # a Heavy Atom bead's force is its heavy atom's force: hydrogens' forces are dropped
    st = json.loads((ci_run / "alanine/cg/heavy-atom.stats.json").read_text())
    assert st["atoms_per_molecule_mapped"] == 10
    assert (ci_run / "alanine/analysis/reference/core-beta/distributions.png").stat().st_size > 10_000
    assert list(pd.read_csv(ci_run / "alanine/analysis/reference/core-beta/rdf.csv").columns) == ["r_nm"]


def test_alanine_ramachandran_models_and_figure3(ci_run):
    """Every alanine mapping's reference map; MACE on Core and Core Beta trained,
    run and scored against its reference; Figure 3 and the table made from them."""
    t = pd.read_csv(ci_run / "tables/ramachandran_alanine.csv")
    ref = t[t["source"] == "reference"].set_index("mapping")
    assert set(ref.index) == set(ALANINE_BEADS) and (ref["n_samples"] == 41).all()
    # single-atom phi/psi beads: the same angles, so the same map and scores as the atomistic one
    for m in ("heavy-atom", "core", "core-beta", "core-single"):
        assert ref.loc[m, "point_symmetry"] == pytest.approx(ref.loc["atomistic", "point_symmetry"]), m
        assert ref.loc[m, "basin_beta_PPII"] == pytest.approx(ref.loc["atomistic", "basin_beta_PPII"]), m
    # the reference stays L alanine; Core has no CB, so no D-form fraction
    assert (ref.loc[["atomistic", "united-atom", "heavy-atom", "core-beta"], "d_form_fraction"] == 0).all()
    assert ref["d_form_fraction"].isna()[["core", "core-map2", "core-single"]].all()
    basins = ref[["basin_beta_PPII", "basin_alpha_R", "basin_alpha_L"]].sum(axis=1)
    assert ((basins > 0.99) & (basins <= 1.0 + 1e-9)).all()
    models = t[t["source"] == "mace"].set_index("mapping")
    assert set(models.index) == {"core", "core-beta"}
    assert (models["n_chains"] == 2).all()
    for m, row in models.iterrows():
        info = json.loads((ci_run / f"alanine/mlp/mace/{m}/ramachandran.json").read_text())
        runs = [json.loads((ci_run / f"alanine/mlp/mace/{m}/runs/run{k}/run.json").read_text()) for k in range(2)]
        # only frames before each chain's stable time count (frames every 0.5 ps of a 2 ps run, t = 0.5 .. 2)
        assert info["n_samples"] == sum(sum(1 for i in range(1, 5) if 0.5 * i < r["stable_ps"] - 1e-9) for r in runs)
        if info["n_samples"]:
            assert 0.0 <= row["jensen_shannon_nats"] <= np.log(2) + 1e-9
    for ext in ("png", "pdf"):
        assert (ci_run / f"figures/figure3.{ext}").stat().st_size > 20_000


def test_alanine_nve_time_step_scan(ci_run):
    """NVE chains of the Core model at 1 and 6 fs: one row per time step, the
    fractions and drifts in range, the figure made."""
    t = pd.read_csv(ci_run / "tables/nve_scan_alanine.csv")
    assert set(t["mapping"]) == {"core"} and sorted(set(t["dt_fs"])) == [1, 6]
    assert t["stable_fraction"].between(0, 1).all() and (t["n_chains"] == 2).all()
    assert (t["length_ps"] >= 1.0 - 1e-9).all()
    # at 6 fs the frames (0.1 ps) are whole steps: 17 steps of 6 fs = 0.102 ps
    six = t[t["dt_fs"] == 6].iloc[0]
    assert six["steps_per_frame"] == 17 and six["frame_every_ps"] == pytest.approx(0.102)
    assert (ci_run / "figures/nve_scan_alanine.png").stat().st_size > 10_000


def test_alanine_chiral_inversion_metadynamics(ci_run):
    """Core Beta MACE: walkers from the reference frame nearest C7eq, improper N-CA-CB-C starts
    on the L side; the table and Figure 4 are made from the hills."""
    t = pd.read_csv(ci_run / "tables/chirality_alanine.csv")
    assert list(t["mapping"]) == ["core-beta"] and (t["n_walkers"] == 2).all()
    row = t.iloc[0]
    assert 90 < row["start_improper_deg"] < 150                      # L alanine: about +123 deg
    assert row["transition_seen"] or pd.notna(row["lower_bound_kcal_mol"])
    s = json.loads((ci_run / "alanine/mlp/mace/core-beta/metad/metad.json").read_text())
    assert s["n_walkers"] == 2 and s["length_ps"] == 2
    six_figures = {"rel": 1e-5}                                     # tables are written with %.6g
    # the walkers' molecules are checked (the toy model may fall apart: then no barrier, and why)
    assert s["stability_checked"] and 0 <= s["n_intact"] <= 2 and row["barrier_note"] == s["barrier_note"]
    if s["barrier_kcal_mol"] is None:
        assert pd.isna(row["barrier_kcal_mol"]) and s["n_usable"] == 0
    else:
        assert s["barrier_kcal_mol"] == pytest.approx(row["barrier_kcal_mol"], **six_figures)
        assert row["barrier_err_kcal_mol"] >= 0
    # the umbrella-sampling check: 6 windows through the planar state, MBAR, compared in the table
    u = json.loads((ci_run / "alanine/mlp/mace/core-beta/metad/umbrella.json").read_text())
    assert len(u["window_centres_deg"]) == 6 and len(u["intact_fraction_per_window"]) == 6
    if u["barrier_kcal_mol"] is None or s["barrier_kcal_mol"] is None:
        assert u["comparison"]["agree"] is None and u["comparison"]["rule"].startswith("no comparison")
    else:
        assert u["comparison"]["metad_barrier_kcal_mol"] == pytest.approx(row["barrier_kcal_mol"], **six_figures)
        assert u["barrier_err_kcal_mol"] >= 0
    if u["barrier_kcal_mol"] is not None:
        assert row["umbrella_barrier_kcal_mol"] == pytest.approx(u["barrier_kcal_mol"], **six_figures)
    for ext in ("png", "pdf"):
        assert (ci_run / f"figures/figure4_alanine.{ext}").stat().st_size > 10_000


def test_claims_from_the_ci_run(ci_run):
    """Every finding gets a row and a verdict; the ones whose studies are not built say so."""
    c = pd.read_csv(ci_run / "claims.csv", dtype={"finding": str})
    assert set(c["verdict"]) <= {"PASS", "FAIL", "NOT ENOUGH DATA"}
    assert {f[0] for f in c["finding"]} == {"1", "2", "3", "4", "5", "6", "7"}
    assert (c[c["finding"].isin(["5", "6"])]["verdict"] == "NOT ENOUGH DATA").all()
    decided = c[c["verdict"] != "NOT ENOUGH DATA"]
    assert decided["value"].notna().all() and decided["reason"].str.len().gt(20).all()
    assert "| finding |" in (ci_run / "claims.md").read_text()
    conf = pd.read_csv(ci_run / "tables/diagnostics_vs_outcomes.csv")
    assert {"bond_permutation"} <= set(conf["check"])       # hexane's MLP mappings, predicted and observed


def test_diagnostics_table(ci_run):
    t = pd.read_csv(ci_run / "tables/diagnostics.csv")
    risk = t[(t["check"] == "bond_permutation") & (t["system"] == "hexane")].groupby("mapping")["flag"].any()
    assert risk["two-site"] and not risk["three-site"] and not risk["four-site"]
    chir = t[(t["check"] == "chirality") & (t["system"] == "alanine")].set_index("mapping")
    verdict = {m: chir.loc[m, "detail"] for m in ("core", "core-beta", "united-atom", "atomistic")}
    assert "lost" in str(verdict["core"]) and "kept" in str(verdict["core-beta"])
    assert "kept" in str(verdict["united-atom"]) and "atomistic" in str(verdict["atomistic"])


def test_adding_a_mapping_schedules_only_that_mapping(ci_run, tmp_path):
    """A new mapping in the system file: the dry run lists that mapping's jobs and the tables that
    gather every mapping, never the atomistic reference or another mapping's jobs."""
    import yaml

    data = yaml.safe_load((ROOT / "config/systems/hexane.yaml").read_text())
    data["mappings"]["three-site-Map2"] = {**data["mappings"]["three-site"], "description": "A B C"}
    data["mappings"]["three-site-Map2"]["beads"] = [{**b, "species": sp} for b, sp in
                                                   zip(data["mappings"]["three-site"]["beads"], "ABC")]
    edited = tmp_path / "hexane.yaml"
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    out = snakemake("-n", "--cores", "2", "--configfile", "config/presets/ci.yaml", "--config",
                    f"results={ci_run.parent}",
                    f"systems={{'hexane': '{edited}', 'alanine': 'config/systems/alanine.yaml'}}")
    jobs = _dry_run_jobs(out.stdout + out.stderr)
    assert jobs, out.stdout
    gathering = {"diagnostics_table", "provenance", "claims", "all"}
    for rule, wildcards in jobs:
        if rule in gathering:
            continue
        assert wildcards.get("mapping") == "three-site-Map2", (rule, wildcards)
    assert {r for r, _ in jobs} >= {"map_reference", "reference_distributions", "diagnose_mapping"}


def _dry_run_jobs(text):
    """(rule, wildcards) of every job a dry run lists."""
    jobs, rule, wc = [], None, {}
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("rule ", "localrule ")) and s.endswith(":"):
            if rule is not None:
                jobs.append((rule, wc))
            rule, wc = s.split()[1].rstrip(":"), {}
        elif rule is not None and s.startswith("wildcards:"):
            wc = dict(kv.split("=", 1) for kv in s.split(":", 1)[1].strip().split(", "))
    if rule is not None:
        jobs.append((rule, wc))
    return jobs
