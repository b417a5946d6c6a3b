"""Claims (mapmatters.claims) on hand-built result files whose verdicts are known: each claim can
PASS and FAIL, and a missing result gives NOT ENOUGH DATA naming the file."""
import numpy as np
import pandas as pd
import pytest

from mapmatters import claims as C

F1 = {"system": "hexane", "mappings": ["four-site", "three-site"], "mlp_variants": ["mace-a"]}
F2 = {"system": "hexane", "angle_mapping": "three-site", "rdf_mapping": "two-site",
      "variants": ["mace-nu1-L1-N20", "mace-nu2-L2-N20"]}


def write_dist(path, x, p, aggregated=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    col = "density_per_deg_mean" if aggregated else "density_per_deg"
    pd.DataFrame({"dihedral_deg": x, col: p}).to_csv(path, index=False)


def test_distribution_helpers():
    x = np.arange(-179, 180, 2.0)
    p = np.ones_like(x)
    assert C.l1_distance((x, p), (x, 3 * p)) == pytest.approx(0.0)        # normalised first
    q = np.where(x < 0, 1.0, 0.0)
    r = np.where(x >= 0, 1.0, 0.0)
    assert C.l1_distance((x, q), (x, r)) == pytest.approx(2.0)
    # uniform on [-180, 180): |x| in [30, 110] holds 160 / 360 of the mass
    assert C.window_mass((x, p), 30, 110) == pytest.approx(160 / 360, abs=0.01)


@pytest.mark.parametrize("factor, verdict", [(2.0, C.PASS), (1.0, C.FAIL)])
def test_gauche_claim(tmp_path, factor, verdict):
    x = np.arange(-179, 180, 2.0)
    gauche = (np.abs(x) >= 30) & (np.abs(x) <= 110)
    ref = np.where(gauche, 1.0, 2.0)
    cls = np.where(gauche, factor, 2.0)
    base = tmp_path / "hexane"
    write_dist(base / "analysis/reference/four-site/bonded.csv", x, ref)
    write_dist(base / "classical/four-site/bonded_runs.csv", x, cls, aggregated=True)
    rows = C.claim_gauche(tmp_path, F1)
    g = rows[0]
    m_ref = gauche.sum() / (gauche.sum() + 2 * (~gauche).sum())
    m_cls = factor * gauche.sum() / (factor * gauche.sum() + 2 * (~gauche).sum())
    assert g.verdict == verdict and g.value == pytest.approx(m_cls / m_ref)
    # no MACE result: that claim says which file is missing
    assert rows[1].verdict == C.NED and "mace-a/four-site/bonded_runs.csv" in rows[1].note


def test_body_order_claim(tmp_path):
    x = np.arange(1, 180, 2.0)
    ref = np.exp(-((x - 110) / 10) ** 2)
    base = tmp_path / "hexane"
    write_dist(base / "analysis/reference/three-site/bonded.csv", x, ref)
    write_dist(base / "mlp/mace-nu1-L1-N20/three-site/bonded_runs.csv", x, np.exp(-((x - 80) / 30) ** 2), True)
    write_dist(base / "mlp/mace-nu2-L2-N20/three-site/bonded_runs.csv", x, np.exp(-((x - 112) / 10) ** 2), True)
    (c,) = C.claim_body_order(tmp_path, F2)
    assert c.verdict == C.PASS and c.value > 2
    write_dist(base / "mlp/mace-nu2-L2-N20/three-site/bonded_runs.csv", x, np.exp(-((x - 80) / 30) ** 2), True)
    (c,) = C.claim_body_order(tmp_path, F2)
    assert c.verdict == C.FAIL and c.value == pytest.approx(1.0)


def test_permutation_claim(tmp_path):
    (tmp_path / "tables").mkdir()
    t = pd.DataFrame({"mapping": ["two-site", "two-site", "three-site"], "variant": ["a", "b", "a"],
                      "mlp_events_per_entry_per_ns": [1.0, 0.4, 0.0],
                      "reference_events_per_entry_per_ns": [0.1, 0.1, 0.0]})
    t.to_csv(tmp_path / "tables/permutations.csv", index=False)
    (c,) = C.claim_permutations(tmp_path)
    assert c.value == pytest.approx(4.0) and c.verdict == C.FAIL            # b: only 4x the reference
    t.loc[1, "mlp_events_per_entry_per_ns"] = 0.8
    t.to_csv(tmp_path / "tables/permutations.csv", index=False)
    assert C.claim_permutations(tmp_path)[0].verdict == C.PASS


def test_alanine_claims(tmp_path):
    (tmp_path / "tables").mkdir()
    rows = [("atomistic", 0.05, 0.0, 0.1, 0.0), ("united-atom", 0.1, 0.0, 0.1, 0.0), ("heavy-atom", 0.15, 0.0, 0.1, 0.0),
            ("core", 0.3, 0.8, 0.2, None), ("core-beta", 0.1, 0.05, 0.1, 0.01), ("core-single", 0.4, 0.7, 0.6, None)]
    t = pd.DataFrame([{"system": "alanine", "mapping": m, "source": "mace", "n_samples": 500, "jensen_shannon_nats": j,
                       "point_symmetry": ps, "reversal_symmetry": rs, "d_form_fraction": d}
                      for m, j, ps, rs, d in rows])
    t.to_csv(tmp_path / "tables/ramachandran_alanine.csv", index=False)
    got = {c.finding: c for c in C.claim_alanine(tmp_path)}
    assert got["4a"].verdict == C.PASS and got["4a"].value == pytest.approx(0.15)
    assert got["4b"].verdict == C.PASS and got["4b"].value == pytest.approx(0.75)
    assert got["4c"].verdict == C.PASS and got["4d"].verdict == C.PASS
    t.loc[t["mapping"] == "core-beta", "d_form_fraction"] = 0.4          # Core Beta inverts: 4c fails
    t.loc[t["mapping"] == "heavy-atom", "n_samples"] = 0                 # no stable frame: 4a undecided
    t.to_csv(tmp_path / "tables/ramachandran_alanine.csv", index=False)
    got = {c.finding: c for c in C.claim_alanine(tmp_path)}
    assert got["4c"].verdict == C.FAIL and got["4a"].verdict == C.NED
    t.loc[t["mapping"] == "core-beta", "n_samples"] = C.MIN_RAMACHANDRAN_SAMPLES - 1   # too few to decide
    t.to_csv(tmp_path / "tables/ramachandran_alanine.csv", index=False)
    got = {c.finding: c for c in C.claim_alanine(tmp_path)}
    assert got["4c"].verdict == C.NED and "fewer than" in got["4c"].note


def test_table1_trends(tmp_path):
    (tmp_path / "tables").mkdir()
    rows = []
    for m in ("three-site", "two-site"):
        for nu in (1, 2, 3):
            for n in (10, 20):
                rows.append({"mapping": m, "nu": nu, "n_avg_target": n, "force_rmse_mev_a": 600 - 20 * nu - 5 * n,
                             "stability_ps_mean": 10 + n, "run_length_ps": 50, "speed_ns_per_day": 30 / nu})
    pd.DataFrame(rows).to_csv(tmp_path / "tables/table1.csv", index=False)
    got = {c.finding: c for c in C.claim_table1(tmp_path)}
    assert all(got[k].verdict == C.PASS and got[k].value == 1.0 for k in ("7a", "7b", "7c", "7d"))
    for r in rows:
        r["force_rmse_mev_a"] = 500 + 20 * r["nu"]
        r["stability_ps_mean"] = 50                                       # all stable for the whole run
    pd.DataFrame(rows).to_csv(tmp_path / "tables/table1.csv", index=False)
    got = {c.finding: c for c in C.claim_table1(tmp_path)}
    assert got["7a"].verdict == C.FAIL and got["7a"].value == 0.0
    assert got["7c"].verdict == C.NED and "too short" in got["7c"].note


def test_missing_results_and_unbuilt_studies(tmp_path):
    figures = {"figure1": F1, "figure2": F2, "figure3": {"system": "alanine", "variant": "mace"}}
    claims = C.evaluate(tmp_path, figures, ["hexane", "alanine"])
    assert {c.verdict for c in claims} == {C.NED}
    five = [c for c in claims if c.finding == "5a"][0]
    assert "chirality_alanine.csv" in five.note
    md = C.render_markdown(claims, pd.DataFrame(), preset="ci")
    assert md.count("NOT ENOUGH DATA") == len(claims)


def test_barrier_claims(tmp_path):
    (tmp_path / "tables").mkdir()
    t = pd.DataFrame({"system": "alanine", "variant": "mace",
                      "mapping": ["atomistic", "united-atom", "heavy-atom", "core-beta"],
                      "barrier_kcal_mol": [None, 16.0, 12.0, 14.5], "transition_seen": [False, True, True, True],
                      "lower_bound_kcal_mol": [19.0, None, None, None]})
    t.to_csv(tmp_path / "tables/chirality_alanine.csv", index=False)
    got = {c.finding: c for c in C.claim_barriers(tmp_path)}
    assert got["5a"].verdict == C.PASS and got["5a"].value == pytest.approx(1.5)
    assert got["5b"].verdict == C.PASS and got["5b"].value == pytest.approx(4.0)
    assert got["5c"].verdict == C.PASS and got["5c"].value == 19.0
    t["lower_bound_kcal_mol"] = [6.0, None, None, None]           # too short a run to decide
    t.loc[2, "barrier_kcal_mol"] = 17.5                           # Heavy Atom too high, above United Atom
    t.to_csv(tmp_path / "tables/chirality_alanine.csv", index=False)
    got = {c.finding: c for c in C.claim_barriers(tmp_path)}
    assert got["5a"].verdict == C.FAIL and got["5b"].verdict == C.FAIL and got["5c"].verdict == C.NED


def test_helix_claims(tmp_path):
    f5 = {"system": "polyalanine", "reference_mapping": "ca"}
    f6 = {"system": "polyalanine", "panels": [{"mapping": "ca", "variant": "mace-ca"},
                                              {"mapping": "core", "variant": "mace"},
                                              {"mapping": "core-beta", "variant": "mace"}]}
    assert {c.verdict for c in C.claim_helix(tmp_path, f5, f6)} == {C.NED}
    rows = [  # mapping, source, frames, right, left, mirror
        ("ca", "reference", 1000, 0.80, 0.00, 0.02),
        ("ca", "mace-ca", 400, 0.30, 0.28, 0.85),
        ("core", "mace", 400, 0.40, 0.20, 0.40),
        ("core-beta", "mace", 400, 0.60, 0.01, 0.05),
    ]
    t = pd.DataFrame(rows, columns=["mapping", "source", "n_frames", "right_fraction", "left_fraction",
                                    "mirror_symmetry"])
    (tmp_path / "tables").mkdir()
    t.to_csv(tmp_path / "tables/helix_polyalanine.csv", index=False)
    got = {c.finding: c for c in C.claim_helix(tmp_path, f5, f6)}
    assert [got[k].verdict for k in ("6a", "6b", "6c")] == [C.PASS, C.PASS, C.PASS]
    assert got["6b"].value == pytest.approx(0.20) and got["6c"].value == pytest.approx(0.59)
    # the opposite outcome: CA keeps a hand, Core no left-handed helices, Core Beta left-handed
    t.loc[1, "mirror_symmetry"], t.loc[2, "left_fraction"], t.loc[3, ["right_fraction", "left_fraction"]] = \
        0.10, 0.01, [0.05, 0.50]
    t.to_csv(tmp_path / "tables/helix_polyalanine.csv", index=False)
    got = {c.finding: c for c in C.claim_helix(tmp_path, f5, f6)}
    assert [got[k].verdict for k in ("6a", "6b", "6c")] == [C.FAIL, C.FAIL, C.FAIL]
    t.loc[3, "n_frames"] = 10      # too few stable frames to decide
    t.to_csv(tmp_path / "tables/helix_polyalanine.csv", index=False)
    assert {c.finding: c for c in C.claim_helix(tmp_path, f5, f6)}["6c"].verdict == C.NED
