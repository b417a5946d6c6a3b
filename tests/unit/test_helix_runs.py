"""The polyalanine helix pipeline (mapmatters.analysis.helix_runs), the least-helical MLP start
frames and Figures 5 and 6, on CA traces of ideal chains from the internal-coordinate builder:
alpha helix (-57, -47: right-handed), its mirror image (left-handed) and extended chains. The
expected fractions and scores are counted by hand from which frame is which."""
import json

import h5py
import numpy as np
import pandas as pd
import pytest

from mapmatters.analysis import helix_runs as hr
from mapmatters.analysis.helix import least_helical_frames
from mapmatters.cgdata import CGWriter, Topology
from mapmatters.reference.peptide import build_peptide

CFG = {"q_min": 0.5, "chi_min_nm3": 0.02, "bins": 200, "chi_max_nm3": 0.06}
NAMES = [f"ALA{i}-CA" for i in range(2, 17)]
SEQ = ["ACE"] + ["ALA"] * 15 + ["NME"]


def _ca(phi_psi):
    return np.array([a.xyz for a in build_peptide(SEQ, phi_psi) if a.name == "CA"]) * 0.1


HELIX = _ca((-57, -47))
MIRROR = HELIX * np.array([1.0, 1.0, -1.0])
EXTENDED = _ca((-139, 135))
PPII = _ca((-80, 150))
#: frame kinds: right, extended, left, right, PPII -> right 2/5, left 1/5; least helical: 1 and 4
FRAMES = np.stack([HELIX, EXTENDED, MIRROR, HELIX, PPII])


def _dataset(path, x):
    n = x.shape[1]
    bonds = np.array([[i, i + 1] for i in range(n - 1)], np.int64)
    top = Topology(species=np.arange(n, dtype=np.int32), species_names=NAMES, bead_names=np.array(NAMES),
                   masses=np.full(n, 12.0), molecule=np.zeros(n, np.int64), bonds=bonds,
                   angles=np.zeros((0, 3), np.int64), dihedrals=np.zeros((0, 4), np.int64), exclusions=bonds)
    with CGWriter(path, top, periodic=False, attrs={"system": "polyalanine", "mapping": "ca",
                                                    "beads_per_molecule": n}, forces=False) as w:
        w.append(x.astype(np.float32), None, np.zeros((len(x), 3, 3), np.float32),
                 np.arange(len(x), dtype=float), np.arange(len(x)))
    return str(path)


def test_series_and_summary():
    df = hr.series(FRAMES, NAMES)
    assert df["q_hel"].iloc[0] > 0.95 and df["q_hel"].iloc[1] < 0.01
    assert df["chi_hel_nm3"].iloc[0] > 0.03 and df["chi_hel_nm3"].iloc[2] < -0.03
    np.testing.assert_allclose(df["rg_nm"].iloc[0], df["rg_nm"].iloc[2])     # a mirror image keeps R_g
    assert df["rg_nm"].iloc[1] > 2 * df["rg_nm"].iloc[0]                       # extended is much larger
    s = hr.summary(df, CFG)
    assert s["n_frames"] == 5
    assert s["right_fraction"] == pytest.approx(2 / 5) and s["left_fraction"] == pytest.approx(1 / 5)
    # helices only: P has 2/3 at +chi and 1/3 at -chi -> mirror overlap 2 x min(2/3, 1/3) = 2/3
    s3 = hr.summary(hr.series(FRAMES[[0, 2, 3]], NAMES), CFG)
    assert s3["mirror_symmetry"] == pytest.approx(2 / 3)
    assert hr.summary(hr.series(FRAMES[[0, 2]], NAMES), CFG)["mirror_symmetry"] == pytest.approx(1.0)


def test_least_helical_frames():
    assert least_helical_frames([0.9, 0.1, 0.5, 0.1, 0.0], 3) == [4, 1, 3]      # ties: the earlier frame
    with pytest.raises(ValueError):
        least_helical_frames([0.1, 0.2], 3)


def test_reference_helix_and_start_frames(tmp_path):
    from mapmatters.mlp.pipeline import start_positions

    h5 = _dataset(tmp_path / "ca.h5", FRAMES)
    info = hr.reference_helix(h5, CFG, str(tmp_path / "helix.csv"), str(tmp_path / "helix.json"))
    df = pd.read_csv(tmp_path / "helix.csv")
    assert list(df.columns) == hr.COLUMNS and df["frame"].tolist() == [0, 1, 2, 3, 4]
    assert info["right_fraction"] == pytest.approx(0.4) and json.loads((tmp_path / "helix.json").read_text())
    R, frames = start_positions(h5, 2, "least_helical")
    assert sorted(frames) == [1, 4] and R.shape == (2, 15, 3)
    np.testing.assert_allclose(R[frames.index(1)], EXTENDED, atol=1e-5)
    assert start_positions(h5, 2, "evenly")[1] == [2, 4]
    with pytest.raises(ValueError, match="unknown start-frame rule"):
        start_positions(h5, 2, "most_helical")


def _model(tmp_path):
    """Two chains of 4 frames; chain 1 is stable for its first 2 frames only."""
    chains = [np.stack([HELIX, HELIX, MIRROR, HELIX]), np.stack([EXTENDED, MIRROR, HELIX, HELIX])]
    traj = tmp_path / "traj.h5"
    with h5py.File(traj, "w") as f:
        f["time"] = np.arange(4) * 0.5
        f["positions"] = np.stack(chains, axis=1).astype(np.float32)      # (F, chains, N, 3)
    for k, stable in enumerate((2.0, 1.0)):
        (tmp_path / f"runs/run{k}").mkdir(parents=True)
        (tmp_path / f"runs/run{k}/run.json").write_text(json.dumps({"stable_ps": stable}))
    return str(traj)


def test_model_helix_counts_stable_frames(tmp_path):
    traj = _model(tmp_path)
    template = _dataset(tmp_path / "ca.h5", FRAMES[:1])
    info = hr.model_helix(traj, str(tmp_path / "runs"), template, CFG, str(tmp_path / "m.csv"),
                          str(tmp_path / "m.json"), log=lambda *_: None)
    # stable: chain 0 all 4 frames (R R L R), chain 1 the first 2 (E L) -> 6 of 8 frames
    assert info["n_frames"] == 6 and info["stable_fraction"] == pytest.approx(6 / 8)
    assert info["right_fraction"] == pytest.approx(3 / 6) and info["left_fraction"] == pytest.approx(2 / 6)
    assert [r["n_frames"] for r in info["runs"]] == [4, 2]
    df = pd.read_csv(tmp_path / "m.csv")
    assert df["run"].tolist() == [0, 0, 0, 0, 1, 1]
    (tmp_path / "summary.json").write_text(json.dumps({"permutation": {
        "events_per_entry_per_ns": {"mean": 2.5}, "any_species": {"events_per_entry_per_ns": {"mean": 7.0}}}}))
    (tmp_path / "perm.json").write_text(json.dumps({"events_per_entry_per_ns": 0.0,
                                                    "any_species": {"events_per_entry_per_ns": 0.5}}))
    rows = hr.table([{"system": "polyalanine", "mapping": "ca", "source": "mace-ca", "json": str(tmp_path / "m.json"),
                      "summary": str(tmp_path / "summary.json")},
                     {"system": "polyalanine", "mapping": "ca", "source": "reference", "json": str(tmp_path / "m.json"),
                      "permutation": str(tmp_path / "perm.json")}])
    assert rows["stable_fraction"].iloc[0] == pytest.approx(0.75) and rows["left_fraction"].iloc[0] == pytest.approx(1 / 3)
    assert rows["permutation_events_per_entry_per_ns"].tolist() == [2.5, 0.0]
    assert rows["permutation_any_species_events_per_entry_per_ns"].tolist() == [7.0, 0.5]


def test_figures_5_and_6(tmp_path):
    from mapmatters.figures.figure5 import plot_figure5
    from mapmatters.figures.figure6 import plot_figure6

    h5 = _dataset(tmp_path / "ca.h5", FRAMES)
    hr.reference_helix(h5, CFG, str(tmp_path / "ref.csv"), str(tmp_path / "ref.json"))
    plot_figure5(str(tmp_path / "ref.csv"), str(tmp_path / "ref.json"), str(tmp_path / "f5.png"),
                 str(tmp_path / "f5.pdf"), grid=CFG, temperature_K=300.0)
    traj = _model(tmp_path)
    hr.model_helix(traj, str(tmp_path / "runs"), h5, CFG, str(tmp_path / "m.csv"), str(tmp_path / "m.json"),
                   log=lambda *_: None)
    beads = [{"name": "CA", "atoms": ["CA"], "species": "CA"}]
    panels = [{"mapping": "ca", "variant": "mace-ca", "csv": str(tmp_path / "m.csv"), "json": str(tmp_path / "m.json"),
               "beads": beads}]
    ref = {"csv": str(tmp_path / "ref.csv"), "json": str(tmp_path / "ref.json"), "label": "reference"}
    plot_figure6(panels, ref, str(tmp_path / "f6.png"), str(tmp_path / "f6.pdf"), grid=CFG, temperature_K=300.0)
    for f in ("f5.png", "f5.pdf", "f6.png", "f6.pdf"):
        assert (tmp_path / f).stat().st_size > 1000


def test_long_title_fits_a_narrow_figure():
    """Figure 5's title on its 4.2-inch figure was cut at both edges; wrapped, it fits."""
    import matplotlib.pyplot as plt

    from mapmatters.figures.figure1 import wrap_title

    title = "Figure 5b: F(chi_hel, Q_hel) of the polyalanine reference (default preset)"
    fig, _ = plt.subplots(figsize=(4.2, 3.4), layout="constrained")
    t = fig.suptitle(wrap_title(title, fig.get_figwidth()))
    fig.canvas.draw()
    box, fbox = t.get_window_extent(), fig.bbox
    assert box.x0 >= fbox.x0 and box.x1 <= fbox.x1
    assert "\n" in t.get_text() and t.get_text().replace("\n", " ") == title
    plt.close(fig)
