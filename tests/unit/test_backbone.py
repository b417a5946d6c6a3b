"""Ramachandran results of a reference dataset and of model chains (mapmatters.analysis.backbone),
on frames built at requested (phi, psi) by the internal-coordinate builder: the basin fractions,
D-form fractions and stable-frame cuts are counted by hand."""
import json

import h5py
import numpy as np
import pytest

from mapmatters.analysis import backbone
from mapmatters.cgdata import CGWriter, Topology
from mapmatters.reference.peptide import build_peptide

CFG = {"bin_deg": 10, "basins": {"beta_PPII": [[-180, 0, 50, 180], [-180, 0, -180, -120]],
                                 "alpha_R": [[-180, 0, -120, 50]], "alpha_L": [[0, 180, -180, 180]]}}
KEEP = ("C", "N", "CA", "CB")


def core_beta(phi, psi):
    """Core Beta bead names and positions (nm) of ACE-ALA-NME built at (phi, psi)."""
    atoms = [a for a in build_peptide(["ACE", "ALA", "NME"], (phi, psi))
             if a.name in KEEP and not (a.resname == "ACE" and a.name != "C")
             and not (a.resname == "NME" and a.name != "N")]
    return [f"{a.resname}{a.resid}-{a.name}" for a in atoms], np.array([a.xyz for a in atoms]) * 0.1


def write_reference(path, frames, names):
    x = np.asarray(frames, np.float32)
    n = x.shape[1]
    bonds = np.array([[0, 1], [1, 2], [2, 3], [2, 4], [4, 5]])
    top = Topology(species=np.zeros(n, np.int32), species_names=["A"], bead_names=np.array(names),
                   masses=np.ones(n), molecule=np.zeros(n, np.int64), bonds=bonds,
                   angles=np.zeros((0, 3), np.int64), dihedrals=np.zeros((0, 4), np.int64), exclusions=bonds)
    with CGWriter(path, top, periodic=False, attrs={"system": "test", "mapping": "core-beta",
                                                    "beads_per_molecule": n}, forces=False) as w:
        w.append(x, None, np.zeros((len(x), 3, 3), np.float32), np.arange(len(x), dtype=float),
                 np.arange(len(x)))
    return str(path)


@pytest.fixture(scope="module")
def frames():
    names, beta = core_beta(-80, 150)
    _, alpha = core_beta(-60, -45)
    return names, beta, alpha


def test_reference_map_counts_and_scores(tmp_path, frames):
    names, beta, alpha = frames
    h5 = write_reference(tmp_path / "ref.h5", [beta] * 4 + [alpha] * 2, names)
    info = backbone.reference_ramachandran(h5, CFG, 300.0, tmp_path / "r.csv", tmp_path / "r.json")
    assert info["n_samples"] == 6 and info["residues"] == ["ALA2"]
    assert info["basins"] == pytest.approx({"beta_PPII": 4 / 6, "alpha_R": 2 / 6, "alpha_L": 0.0})
    assert info["d_form_fraction"] == 0.0          # built L alanine
    assert info["point_symmetry"] == 0.0           # all weight at phi < 0, none at phi > 0
    P, edges = backbone.read_map(tmp_path / "r.csv")
    assert P.shape == (36, 36) and P.sum() == pytest.approx(1.0)
    # the bin of the beta structure (built at -80, 150 deg) holds 4 of 6 samples
    i, j = np.unravel_index(np.argmax(P), P.shape)
    assert P[i, j] == pytest.approx(4 / 6)
    centre = 0.5 * (edges[:-1] + edges[1:])
    assert abs(centre[i] + 80) <= 5.01 and abs(centre[j] - 150) <= 5.01
    # its free energy is 0 (the minimum); the alpha bin lies kT ln 2 above
    import pandas as pd

    df = pd.read_csv(tmp_path / "r.csv")
    F = df["free_energy_kJ_mol"].dropna().sort_values().to_numpy()
    assert F[0] == 0.0 and F[1] == pytest.approx(0.0083144626 * 300.0 * np.log(2.0), rel=1e-5)  # CSV: 6 digits
    assert json.loads((tmp_path / "r.json").read_text())["definitions"]["point_symmetry"]


def test_model_map_uses_stable_frames_and_sees_the_mirror_image(tmp_path, frames):
    names, beta, alpha = frames
    ref = write_reference(tmp_path / "ref.h5", [beta] * 4 + [alpha] * 2, names)
    backbone.reference_ramachandran(ref, CFG, 300.0, tmp_path / "r.csv", tmp_path / "r.json")
    mirror = beta * np.array([-1.0, 1.0, 1.0])     # D form: phi, psi and the improper change sign
    # chain 0: 4 frames of the reference's beta structure, stable for 2 ps (frames at 0, 1 count);
    # chain 1: the mirror image, stable throughout; chain 2: unstable from the start
    x = np.zeros((4, 3, len(names), 3), np.float32)
    x[:, 0], x[:, 1], x[:, 2] = beta, mirror, alpha
    traj = tmp_path / "traj.h5"
    with h5py.File(traj, "w") as f:
        f["positions"] = x
        f["time"] = np.arange(4, dtype=float)
    runs = tmp_path / "runs"
    for k, stable in enumerate((2.0, 4.0, 0.0)):
        (runs / f"run{k}").mkdir(parents=True)
        (runs / f"run{k}" / "run.json").write_text(json.dumps({"stable_ps": stable}))
    info = backbone.model_ramachandran(str(traj), str(runs), ref, str(tmp_path / "r.csv"), CFG, 300.0,
                                       tmp_path / "m.csv", tmp_path / "m.json", log=lambda m: None)
    assert info["stable_chains"] == 2 and info["n_samples"] == 2 + 4
    assert [r["frames"] for r in info["runs"]] == [2, 4, 0]
    assert info["d_form_fraction"] == pytest.approx(4 / 6)
    assert info["basins"]["alpha_L"] == pytest.approx(4 / 6)   # the mirror sits at phi = +80
    # chain 0 is all in the reference's most populated bin: overlap 4/6 with the reference,
    # chain 1 shares no bin with it: overlap 0 and the largest JSD, ln 2
    r0, r1 = info["runs"][0], info["runs"][1]
    assert r0["overlap"] == pytest.approx(4 / 6) and r1["overlap"] == 0.0
    assert r1["jensen_shannon_nats"] == pytest.approx(np.log(2.0))
    assert info["per_chain"]["overlap"]["mean"] == pytest.approx(2 / 6)


def test_no_phi_psi_beads_is_a_clear_error():
    with pytest.raises(ValueError, match="beads named N, CA and C"):
        backbone.angles(np.zeros((1, 3, 3)), ["ALA2-CA", "ALA3-CA", "ALA4-CA"])
