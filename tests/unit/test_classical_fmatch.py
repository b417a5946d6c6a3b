"""Force matching recovers a known answer (VOTCA csg_fmatch through our pipeline).

Synthetic CG data: 100 two-bead molecules (species A-B) in a 3 nm box, a harmonic bond and
smooth species-dependent pair potentials between non-bonded beads (zero beyond 1 nm), forces
computed exactly with numpy on random configurations (50 frames = 2 blocks of 25). The force
tables recovered by :func:`mapmatters.classical.votca.force_match` must match the analytic
forces in the well-sampled (trusted) range of each grid:
max error < 2 % of the largest force for every pair type and < 0.5 % for the bond; the
integrated potentials must match too.
"""
import shutil

import numpy as np
import pytest

from mapmatters.cgdata import CGDataset, CGWriter, Topology
from mapmatters.classical import votca
from mapmatters.classical.lammps import LammpsSettings
from mapmatters.classical.model import ModelTopology
from mapmatters.classical.pipeline import fit_model, load_tables, simulate
from mapmatters.classical.tables import tables_from_fit

needs_votca = pytest.mark.skipif(votca.csg_fmatch_binary() is None, reason="VOTCA 'csg_fmatch' is not on PATH")

KT = 2.494
RC = 1.0
K_B, R0 = 2000.0, 0.25
#           repulsion A, width s1, attraction B, position r1, width s2
PAIR = {("A", "A"): (30.0, 0.18, 3.0, 0.45, 0.08), ("A", "B"): (20.0, 0.20, 2.0, 0.50, 0.10),
        ("B", "B"): (40.0, 0.22, 1.0, 0.55, 0.10)}


def pair_u_f(r, p):
    """Gaussian repulsion minus a Gaussian well, times (1 - (r/RC)^2)^2: U and F = -dU/dr."""
    a, s1, b, r1, s2 = p
    g1 = a * np.exp(-(r / s1) ** 2)
    g2 = b * np.exp(-((r - r1) / s2) ** 2)
    u0 = g1 - g2
    du0 = -2 * r / s1 ** 2 * g1 + 2 * (r - r1) / s2 ** 2 * g2
    x = 1 - (r / RC) ** 2
    s = np.where(r < RC, x ** 2, 0.0)
    ds = np.where(r < RC, -4 * x * r / RC ** 2, 0.0)
    return u0 * s, -(du0 * s + u0 * ds)


def write_synthetic(path, n_mol=100, box=3.0, n_frames=50, seed=0):
    rng = np.random.default_rng(seed)
    n = 2 * n_mol
    species = np.tile([0, 1], n_mol)
    names = ["A", "B"]
    bonds = np.arange(n).reshape(n_mol, 2)
    top = Topology(species=species, species_names=names, bead_names=np.array(["A1", "B1"] * n_mol),
                   masses=np.full(n, 20.0), molecule=np.repeat(np.arange(n_mol), 2), bonds=bonds,
                   angles=np.zeros((0, 3), int), dihedrals=np.zeros((0, 4), int), exclusions=bonds.copy())
    attrs = {"n_molecules": n_mol, "beads_per_molecule": 2, "system": "synthetic", "mapping": "dimer"}
    with CGWriter(path, top, periodic=True, attrs=attrs) as w:
        for fr in range(n_frames):
            c = rng.uniform(0, box, (n_mol, 3))
            u = rng.normal(size=(n_mol, 3))
            u /= np.linalg.norm(u, axis=1)[:, None]
            r = R0 + rng.normal(0, np.sqrt(KT / K_B), n_mol)
            pos = np.empty((n, 3))
            pos[0::2], pos[1::2] = c, c + u * r[:, None]
            f = np.zeros((n, 3))
            fb = (-K_B * (r - R0))[:, None] * u  # bond force on B along the A->B axis
            f[1::2] += fb
            f[0::2] -= fb
            d = pos[None, :, :] - pos[:, None, :]  # d[i, j] = r_j - r_i
            d -= box * np.round(d / box)
            dist = np.linalg.norm(d, axis=-1)
            np.fill_diagonal(dist, np.inf)
            dist[bonds[:, 0], bonds[:, 1]] = dist[bonds[:, 1], bonds[:, 0]] = np.inf
            for a in range(2):
                for b in range(2):
                    m = (species[:, None] == a) & (species[None, :] == b) & (dist < RC)
                    safe = np.where(m, dist, 1.0)
                    fr_ = np.where(m, pair_u_f(safe, PAIR[tuple(sorted((names[a], names[b])))])[1], 0.0)
                    f -= np.einsum("ij,ijk->ik", fr_ / safe, d)
            w.append(np.mod(pos, box)[None].astype("f4"), f[None].astype("f4"),
                     (np.eye(3) * box)[None].astype("f4"), [fr * 1.0], [fr])


@pytest.fixture(scope="module")
def fit(tmp_path_factory):
    if votca.csg_fmatch_binary() is None:
        pytest.skip("VOTCA 'csg_fmatch' is not on PATH")
    d = tmp_path_factory.mktemp("fmatch")
    write_synthetic(d / "synthetic.h5")
    opts = votca.FitOptions(frames_per_block=25, pair_cutoff=RC)
    return votca.force_match(d / "synthetic.h5", d / "fm", opts, log=d / "fmatch.log")


def test_model_from_synthetic_dataset(tmp_path):
    write_synthetic(tmp_path / "s.h5", n_mol=5, n_frames=2)
    with CGDataset(tmp_path / "s.h5") as ds:
        m = ModelTopology.from_dataset(ds)
    assert m.n_molecules == 5 and m.bead_species == ("A", "B") and m.bonds == ((0, 1),)
    assert [t.name for t in m.bonded_types()] == ["bond_A-B"]


@needs_votca
def test_fit_setup(fit):
    names = [g.name for g in fit.grids]
    assert names == ["bond_A-B", "pair_A-A", "pair_A-B", "pair_B-B"]
    assert fit.n_blocks == 2 and fit.cutoff == pytest.approx(RC) and not fit.skipped
    for g in fit.grids:
        if g.itype.kind == "pair":
            assert g.max == pytest.approx(RC) and g.min < 0.2


@needs_votca
def test_bond_force_recovered(fit):
    x, f, _ = fit.forces["bond_A-B"]
    ref = -K_B * (x - R0)
    assert x[0] < R0 - 0.05 and x[-1] > R0 + 0.05
    assert np.abs(f - ref).max() < 0.005 * np.abs(ref).max()


@needs_votca
@pytest.mark.parametrize("pair", [("A", "A"), ("A", "B"), ("B", "B")])
def test_pair_force_recovered(fit, pair):
    name = f"pair_{pair[0]}-{pair[1]}"
    x, f, _ = fit.forces[name]
    ref = pair_u_f(x, PAIR[pair])[1]
    grid = next(g for g in fit.grids if g.name == name)
    ok = x >= grid.trusted[0]
    err = np.abs(f - ref)[ok].max() / np.abs(ref[ok]).max()
    assert err < 0.02, f"max force error {err:.3%} of max |F|"


@needs_votca
def test_potentials_recovered(fit):
    tabs = tables_from_fit(fit)
    t = tabs["pair_A-B"]
    ok = (t.x >= t.fit_min) & (t.x <= RC)
    ref = pair_u_f(t.x[ok], PAIR[("A", "B")])[0]
    assert np.abs(t.energy[ok] - ref).max() < 0.05 * np.abs(ref).max() + 0.02
    b = tabs["bond_A-B"]
    assert abs(b.x[np.argmin(b.energy)] - R0) < 0.002


@needs_votca
@pytest.mark.skipif(shutil.which("lmp") is None, reason="LAMMPS 'lmp' is not on PATH")
def test_pipeline_fit_and_simulate(tmp_path):
    """fit_model -> tables.json -> simulate: a short LAMMPS run of the fitted synthetic model."""
    write_synthetic(tmp_path / "s.h5", n_mol=60, n_frames=50, seed=1)
    summary = fit_model(tmp_path / "s.h5", tmp_path / "model",
                        votca.FitOptions(frames_per_block=25, pair_cutoff=RC))
    assert (tmp_path / "model/tables.json").exists() and (tmp_path / "model/bond_A-B.pot").exists()
    assert summary["n_blocks"] == 2
    tables, meta = load_tables(tmp_path / "model/tables.json")
    assert set(tables) == {"bond_A-B", "pair_A-A", "pair_A-B", "pair_B-B"} and meta["cutoff_nm"] == RC
    run = simulate(tmp_path / "s.h5", tmp_path / "model/tables.json", tmp_path / "md",
                   LammpsSettings(length_ps=2.0, frame_every_ps=0.5, thermo_every_ps=0.1, seed=3))
    assert run["completed"] and "stable_ps" not in run and run["n_frames"] == 5
    # stability is the analysis' decision: the bulk criterion on the thermo log keeps all 2 ps
    import pandas as pd

    from mapmatters.analysis.stability import stable_time
    from mapmatters.units import KB_KJ_MOL_K

    thermo = pd.read_csv(tmp_path / "md/thermo.csv")
    st = stable_time({"criterion": "bulk", "max_kT_kJ_mol": 5.0}, thermo["time"] / 1000.0,
                     kT=KB_KJ_MOL_K * thermo["temp"], length_ps=2.0, completed=run["completed"])
    assert st["stable_ps"] == 2.0
    assert 200 < run["temperature_mean"] < 400 and run["ns_per_day_wall"] > 0
    import mdtraj as md

    traj = md.load(str(tmp_path / "md/traj.xtc"), top=str(tmp_path / "md/cg.pdb"))
    assert traj.n_atoms == 120 and traj.n_frames == 5
    assert np.allclose(traj.unitcell_lengths[0], 3.0, atol=1e-3)
    # bonds stay near the fitted bond length (nm)
    b = md.compute_distances(traj, np.arange(120).reshape(60, 2))
    assert abs(b.mean() - R0) < 0.02
