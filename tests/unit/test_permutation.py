"""Bond permutations on hand-built configurations, where the answer is known by construction."""
import numpy as np
import pandas as pd

from mapmatters.analysis.permutation import partner_sets, permutation_series, permutation_summary, permuted

BOX = np.diag([3.0, 3.0, 3.0])


def dimers(frames):
    """Two A-A dimers (beads 0-1, 2-3); positions per frame given as (4, 3)."""
    return np.asarray(frames, float), np.zeros(4, int), np.array([[0, 1], [2, 3]])


def test_partner_sets_two_species():
    species = np.array([0, 1, 1, 0])          # A-B-B-A: four-site hexane
    sets = partner_sets(species, [[0, 1], [1, 2], [2, 3]])
    by_s = {s: (beads.tolist(), keys.tolist()) for s, beads, keys in sets}
    # partners of species A (0): beads 1 (-> 0) and 2 (-> 3)
    assert by_s[0] == ([1, 2], [1 * 4 + 0, 2 * 4 + 3])
    # partners of species B (1): beads 0 (-> 1), 1 (-> 2), 2 (-> 1), 3 (-> 2)
    assert by_s[1] == ([0, 1, 2, 3], [0 * 4 + 1, 1 * 4 + 2, 2 * 4 + 1, 3 * 4 + 2])


def test_swapped_partner_is_counted_and_events_only_on_switch():
    intact = [[0.5, 0.5, 0.5], [0.8, 0.5, 0.5], [1.5, 0.5, 0.5], [1.8, 0.5, 0.5]]
    # bead 1 moves next to bead 2 (0.1 nm), far from its partner 0: beads 1 and 2 permuted
    swapped = [[0.5, 0.5, 0.5], [1.4, 0.5, 0.5], [1.5, 0.5, 0.5], [1.8, 0.5, 0.5]]
    x, species, bonds = dimers([intact, swapped, swapped, intact, swapped])
    p = permuted(x, np.repeat(BOX[None], len(x), 0), species, bonds)
    assert p.shape == (5, 4)
    assert p.sum(axis=1).tolist() == [0, 2, 2, 0, 2]
    assert p[1].tolist() == [False, True, True, False]
    s = permutation_series(x, np.repeat(BOX[None], len(x), 0), species, bonds, np.arange(5) * 0.5)
    assert s["events_cumulative"].tolist() == [0, 2, 2, 2, 4]
    summ = permutation_summary(s)
    assert summ["events"] == 4 and summ["entries"] == 4
    assert np.isclose(summ["events_per_entry_per_ns"], 4 / (4 * 0.002))
    assert np.isclose(summ["fraction_permuted_mean"], 6 / 20)


def test_minimum_image_keeps_partner_across_boundary():
    # the partner of bead 0 sits across the boundary (0.2 nm by minimum image, 2.8 nm directly)
    x = np.array([[[0.1, 1.0, 1.0], [2.9, 1.0, 1.0], [1.5, 1.0, 1.0], [1.7, 1.0, 1.0]]])
    p = permuted(x, BOX[None], np.zeros(4, int), [[0, 1], [2, 3]])
    assert not p.any()


def test_series_of_a_dataset_matches_in_memory(tmp_path):
    from mapmatters.analysis.permutation import dataset_permutations
    from mapmatters.cgdata import CGWriter, Topology

    rng = np.random.default_rng(3)
    x = rng.uniform(0, 3, (23, 6, 3)).astype(np.float32)
    top = Topology(species=np.zeros(6, np.int32), species_names=["A"], bead_names=["A1", "A2"] * 3,
                   masses=np.ones(6), molecule=np.repeat(np.arange(3), 2),
                   bonds=np.array([[0, 1], [2, 3], [4, 5]]), angles=np.zeros((0, 3), int),
                   dihedrals=np.zeros((0, 4), int), exclusions=np.array([[0, 1], [2, 3], [4, 5]]))
    with CGWriter(tmp_path / "d.h5", top, periodic=True, attrs={}, forces=False) as w:
        w.append(x, None, np.repeat(BOX[None], 23, 0).astype(np.float32), np.arange(23) * 0.5, np.arange(23))
    from mapmatters.cgdata import CGDataset
    with CGDataset(tmp_path / "d.h5") as ds:
        streamed = dataset_permutations(ds, chunk=5)   # events across chunk borders too
    direct = permutation_series(x, np.repeat(BOX[None], 23, 0), top.species, top.bonds, np.arange(23) * 0.5)
    pd.testing.assert_frame_equal(streamed.reset_index(drop=True), direct, check_dtype=False)


def test_species_blind_sees_a_switch_that_unique_species_hide():
    # a free-space chain 0-1-2-3 with every bead its own species (CA polyalanine, unique species);
    # bead 3 folds back to 0.2 nm of bead 0, whose partner 1 is 0.38 nm away
    x = np.array([[[0.0, 0.0, 0.0], [0.38, 0.0, 0.0], [0.38, 0.38, 0.0], [0.0, 0.2, 0.0]]])
    species, bonds = np.arange(4), [[0, 1], [1, 2], [2, 3]]
    # species-aware: the nearest bead of each partner's species is that partner, by construction
    assert not permuted(x, None, species, bonds).any()
    blind = permuted(x, None, species, bonds, species_blind=True)
    # one entry per bead; bead 0's nearest bead is 3 (not bonded) and bead 3's is 0 (not bonded)
    assert blind.tolist() == [[True, False, False, True]]
    # with one species for all beads the two counts are the same thing
    assert (permuted(x, None, np.zeros(4, int), bonds) == blind).all()


def test_dataset_summaries_carry_the_species_blind_rates(tmp_path):
    from mapmatters.analysis.permutation import dataset_permutation_summaries
    from mapmatters.cgdata import CGDataset, CGWriter, Topology

    chain = np.array([[0.0, 0.0, 0.0], [0.38, 0.0, 0.0], [0.38, 0.38, 0.0], [0.0, 0.5, 0.0]])
    folded = chain.copy()
    folded[3] = [0.0, 0.2, 0.0]
    x = np.stack([chain, folded, chain, folded]).astype(np.float32)
    top = Topology(species=np.arange(4, dtype=np.int32), species_names=list("ABCD"), bead_names=list("ABCD"),
                   masses=np.ones(4), molecule=np.zeros(4, int), bonds=np.array([[0, 1], [1, 2], [2, 3]]),
                   angles=np.zeros((0, 3), int), dihedrals=np.zeros((0, 4), int),
                   exclusions=np.array([[0, 1], [1, 2], [2, 3]]))
    with CGWriter(tmp_path / "d.h5", top, periodic=False, attrs={}, forces=False) as w:
        w.append(x, None, None, np.arange(4) * 0.5, np.arange(4))
    with CGDataset(tmp_path / "d.h5") as ds:
        series, summ = dataset_permutation_summaries(ds)
    assert summ["events"] == 0 and summ["fraction_permuted_mean"] == 0.0
    # two entries (beads 0 and 3) switch at frames 1 and 3: 4 events over 4 entries in 1.5 ps
    blind = summ["any_species"]
    assert blind["events"] == 4 and blind["entries"] == 4
    assert np.isclose(blind["events_per_entry_per_ns"], 4 / (4 * 0.0015))
    assert np.isclose(blind["fraction_permuted_mean"], 4 / 16)
