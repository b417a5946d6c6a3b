"""RDFs: ideal gas, an independent brute-force histogram, exclusions, species pairs, errors, CSV."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mapmatters.analysis import rdf as R
from mapmatters.cgdata import CGDataset, CGWriter, Topology
from mapmatters.errors import InputError


def _write(path, x, box, species, species_names, exclusions=(), periodic=True):
    """A CG dataset file from positions (F, N, 3) and boxes (F, 3, 3)."""
    n = x.shape[1]
    excl = np.asarray(exclusions, dtype=np.int64).reshape(-1, 2)
    top = Topology(species=np.asarray(species), species_names=list(species_names),
                   bead_names=np.array([f"X{i}" for i in range(n)]), masses=np.ones(n),
                   molecule=np.arange(n), bonds=excl, angles=np.zeros((0, 3), int),
                   dihedrals=np.zeros((0, 4), int), exclusions=excl)
    attrs = {"n_molecules": n, "beads_per_molecule": 1, "observable_kind": "bond", "observable_beads": [0, 0]}
    with CGWriter(path, top, periodic=periodic, attrs=attrs) as w:
        w.append(x.astype(np.float32), np.zeros_like(x, dtype=np.float32), box.astype(np.float32),
                 np.arange(len(x), dtype=float), np.arange(len(x)))
    return CGDataset(path)


def _brute_counts(x, lengths, a_idx, b_idx, excluded, edges):
    """Pair-distance histogram by explicit loops over frames and pairs (orthorhombic boxes)."""
    counts = np.zeros(len(edges) - 1)
    pairs = [(i, j) for i in a_idx for j in b_idx if i != j and (i < j or set(a_idx) != set(b_idx))
             and (min(i, j), max(i, j)) not in excluded]
    pairs = sorted({(min(i, j), max(i, j)) for i, j in pairs})
    n_pairs = len(pairs)
    i, j = np.array(pairs).T
    all_d = []
    for f in range(len(x)):
        d = x[f, j].astype(np.float64) - x[f, i].astype(np.float64)
        d -= lengths[f] * np.round(d / lengths[f])
        r = np.sqrt((d**2).sum(-1))
        all_d.append(r)
        counts += np.histogram(r, bins=edges)[0]
    return counts, n_pairs, np.concatenate(all_d)


def _random_frames(rng, n_frames, n, lengths):
    return rng.random((n_frames, n, 3)) * lengths[:, None, :]


# ----------------------------------------------------------------------------- pairs
def test_rdf_pair_list_selects_species_and_drops_exclusions():
    species = np.array([0, 1, 0, 1, 2])
    aa = R.rdf_pair_list(species, 0, 0)
    np.testing.assert_array_equal(aa, [[0, 2]])
    ab = R.rdf_pair_list(species, 0, 1, exclusions=[[1, 0], [3, 4]])  # (0,1) excluded, any order
    assert {tuple(p) for p in ab} == {(0, 3), (2, 1), (2, 3)}
    bc = R.rdf_pair_list(species, 1, 2, exclusions=[[3, 4]])
    np.testing.assert_array_equal(bc, [[1, 4]])
    assert len(R.rdf_pair_list(species, 2, 2)) == 0
    assert R.species_pairs(3) == [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)]


def test_default_r_max_is_half_shortest_width():
    box = np.array([np.diag([3.0, 2.5, 4.0]), np.diag([3.0, 2.6, 2.8])])
    assert R.default_r_max_nm(box) == pytest.approx(1.25)
    tric = np.array([[2.0, 0, 0], [1.0, 2.0, 0], [0, 0, 5.0]])  # height of b over a is 2.0
    assert R.default_r_max_nm(tric[None]) == pytest.approx(0.5 * 2.0 * 2.0 / np.hypot(1.0, 2.0))


# ----------------------------------------------------------------------------- physics
def test_ideal_gas_rdf_is_one(tmp_path):
    rng = np.random.default_rng(11)
    L = np.full((150, 3), 3.0)
    x = _random_frames(rng, 150, 200, L)
    ds = _write(tmp_path / "gas.h5", x, np.stack([np.diag(l) for l in L]), np.zeros(200, int), ["A"])
    df = R.compute_rdfs(ds, dr_nm=0.05, chunk=40)
    assert list(df.columns) == ["r_nm", "g_A-A"]
    assert df["r_nm"].iloc[-1] == pytest.approx(1.475)  # r_max = 1.5 = L / 2
    far = df[df.r_nm > 0.3]
    # expected pair counts per bin give the Poisson error of every bin
    shell = 4 / 3 * np.pi * ((far.r_nm + 0.025) ** 3 - (far.r_nm - 0.025) ** 3)
    sigma = 1 / np.sqrt(150 * 200 * 199 / 2 * shell / 27.0)
    assert np.all(np.abs(far["g_A-A"] - 1) < 5 * sigma)
    assert abs(far["g_A-A"].mean() - 1) < 0.005  # mean over ~24 bins, sigma of the mean ~0.1 %


def test_matches_brute_force_with_exclusions_chunks_and_varying_box(tmp_path):
    edges = np.linspace(0.0, 1.0, 21)  # dr = 0.05 nm, r_max = 1.0 nm
    species = np.array([0, 1, 0, 0, 1, 1, 0, 1] * 5)
    excluded = {(0, 1), (2, 3), (4, 9), (10, 12), (5, 6), (30, 31)}
    # Reject configurations with a distance within 2e-6 nm of a bin edge: float32 (mdtraj)
    # and float64 (here) distances must fall in the same bin for an exact comparison.
    for seed in range(200):
        rng = np.random.default_rng(seed)
        L = np.array([[2.2, 2.4, 2.6]]) * (1 + 0.05 * rng.random((9, 1)))  # box varies per frame
        x = _random_frames(rng, 9, len(species), L).astype(np.float32)
        _, _, d = _brute_counts(x, L.astype(np.float32), np.arange(40), np.arange(40), set(), edges)
        if np.abs(d[:, None] - edges[None, :]).min() > 2e-6:
            break
    else:
        pytest.fail("no random configuration clear of the bin edges")
    box = np.stack([np.diag(l) for l in L.astype(np.float32)])
    ds = _write(tmp_path / "mix.h5", x, box, species, ["A", "B"], exclusions=sorted(excluded))
    df = R.compute_rdfs(ds, r_max_nm=1.0, dr_nm=0.05, chunk=4)  # 4 + 4 + 1 frames
    vol = np.prod(L.astype(np.float32).astype(np.float64), axis=1)
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    a_idx, b_idx = np.flatnonzero(species == 0), np.flatnonzero(species == 1)
    for col, (p, q) in {"g_A-A": (a_idx, a_idx), "g_A-B": (a_idx, b_idx), "g_B-B": (b_idx, b_idx)}.items():
        counts, n_pairs, _ = _brute_counts(x, L.astype(np.float32), p, q, excluded, edges)
        # pooled pair counts over the ideal-gas expectation n_pairs * shell / V_k per frame
        expected = n_pairs * shell * np.sum(1.0 / vol)
        np.testing.assert_allclose(df[col].to_numpy(), counts / expected, rtol=1e-6, atol=0)
    assert np.all(df[["g_A-A", "g_A-B", "g_B-B"]].to_numpy()[5:] > 0)  # the comparison is not vacuous


def test_density_normalisation_is_coordination_over_bulk_density(tmp_path):
    rng = np.random.default_rng(5)
    species = np.array([0, 0, 1] * 10)
    excluded = [(0, 1), (0, 2), (1, 2)]
    x = _random_frames(rng, 6, 30, np.full((6, 3), 2.5))
    box = np.repeat(np.diag([2.5] * 3)[None], 6, axis=0)
    ds = _write(tmp_path / "dens.h5", x, box, species, ["A", "B"], exclusions=excluded)
    df = R.compute_rdfs(ds, r_max_nm=1.2, dr_nm=0.1, normalisation="density")
    edges = np.linspace(0, 1.2, 13)
    shell = 4 / 3 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    xf = x.astype(np.float32).astype(np.float64)
    for col, a, b in (("g_A-B", 0, 1), ("g_A-A", 0, 0)):
        ia, ib = np.flatnonzero(species == a), np.flatnonzero(species == b)
        coord = np.zeros(12)  # mean number of b beads in each shell around one a bead
        for f in range(6):
            for i in ia:
                d = xf[f, ib] - xf[f, i]
                d -= 2.5 * np.round(d / 2.5)
                r = np.linalg.norm(d, axis=1)
                keep = (ib != i) & ~np.isin(ib, [q for p in excluded for q in p if i in p])
                coord += np.histogram(r[keep], bins=edges)[0]
        coord /= 6 * len(ia)
        g = coord / (len(ib) / 2.5**3 * shell)
        np.testing.assert_allclose(df[col].to_numpy(), g, rtol=1e-5, atol=1e-12)


def test_excluded_pair_leaves_no_peak(tmp_path):
    # beads 0 and 1 always 0.305 nm apart (a bin centre); 2 and 3 farther than r_max from all
    x = np.array([[[1.0, 1.0, 1.0], [1.305, 1.0, 1.0], [6.0, 6.0, 6.0], [6.0, 1.0, 6.0]]] * 5)
    box = np.repeat(np.diag([10.0] * 3)[None], 5, axis=0)
    with_excl = R.compute_rdfs(_write(tmp_path / "e.h5", x, box, [0] * 4, ["A"], exclusions=[(1, 0)]),
                               r_max_nm=1.0)
    assert np.all(with_excl["g_A-A"] == 0)
    without = R.compute_rdfs(_write(tmp_path / "n.h5", x, box, [0] * 4, ["A"]), r_max_nm=1.0)
    peak = without["r_nm"][without["g_A-A"].idxmax()]
    assert peak == pytest.approx(0.305) and without["g_A-A"].sum() > 0


def test_species_pair_columns_and_selection(tmp_path):
    # A-B pairs at 0.2 nm, A-A and B-B pairs only at >= 0.8 nm; one C bead alone
    x = np.array([[[1.0, 1.0, 1.0], [1.2, 1.0, 1.0], [1.0, 1.8, 1.0], [1.2, 1.8, 1.0], [4.0, 4.0, 4.0]]])
    box = np.diag([8.0] * 3)[None]
    df = R.compute_rdfs(_write(tmp_path / "s.h5", x, box, [0, 1, 0, 1, 2], ["A", "B", "C"]),
                        r_max_nm=0.5, dr_nm=0.1)
    assert list(df.columns) == ["r_nm", "g_A-A", "g_A-B", "g_A-C", "g_B-B", "g_B-C", "g_C-C"]
    assert df["g_A-B"][2] > 0 and df["g_A-B"].drop(index=2).eq(0).all()
    assert (df[["g_A-A", "g_B-B", "g_A-C", "g_B-C"]] == 0).all().all()
    assert df["g_C-C"].isna().all()  # a single C bead has no pairs


def test_non_periodic_dataset_and_bad_arguments(tmp_path):
    x = np.zeros((1, 2, 3))
    x[0, 1, 0] = 0.5
    ds = _write(tmp_path / "np.h5", x, np.diag([3.0] * 3)[None], [0, 0], ["A"], periodic=False)
    with pytest.raises(InputError, match="periodic"):
        R.compute_rdfs(ds)
    with pytest.raises(InputError):
        R.rdf_bins(1.0, 0.0)
    with pytest.raises(InputError, match="normalisation"):
        R.compute_rdfs(ds, normalisation="gromacs")


# ----------------------------------------------------------------------------- error, CSV
def test_rdf_error_on_common_grid():
    r = np.round(np.arange(0.005, 1.0, 0.01), 3)
    ref = pd.DataFrame({"r_nm": r, "g_A-A": np.ones_like(r), "g_A-B": np.ones_like(r)})
    model = pd.DataFrame({"r_nm": r[:50], "g_A-A": np.full(50, 1.1), "g_A-B": np.full(50, 0.8)})
    by_pair = R.rdf_error_by_pair(model, ref)
    assert by_pair == pytest.approx({"g_A-A": 0.01, "g_A-B": 0.04})
    assert R.rdf_error(model, ref) == pytest.approx(0.025)
    assert R.rdf_error(np.array([1.0, 2.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    with pytest.raises(InputError):
        R.rdf_error(np.ones(3), np.ones(4))
    with pytest.raises(InputError, match="no species pair"):
        R.rdf_error(model.rename(columns={"g_A-A": "g_X-X", "g_A-B": "g_X-Y"}), ref)


def test_rdf_csv_roundtrip(tmp_path):
    df = pd.DataFrame({"r_nm": [0.005, 0.015], "g_A-A": [0.0, 1.25], "g_A-B": [0.5, 1.0]})
    R.write_rdf_csv(tmp_path / "g.csv", df)
    assert (tmp_path / "g.csv").read_text().splitlines()[0] == "r_nm,g_A-A,g_A-B"
    pd.testing.assert_frame_equal(R.read_rdf_csv(tmp_path / "g.csv"), df)
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    with pytest.raises(InputError):
        R.read_rdf_csv(tmp_path / "bad.csv")
