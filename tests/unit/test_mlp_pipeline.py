"""Config -> model variants, cut-off from N_avg, chain -> dataset, Table 1 rendering."""
import json

import numpy as np
import pytest

from mapmatters.mlp.neighbors import r_cut_for_n_avg
from mapmatters.mlp.pipeline import variant_model_config


def test_r_cut_for_n_avg_ideal_gas():
    # ideal gas: <n(r)> = (N - 1)/V * 4/3 pi r^3, so r = (3 n V / (4 pi (N - 1)))^(1/3)
    rng = np.random.default_rng(0)
    L, N = 3.0, 800
    R = rng.uniform(0, L, (20, N, 3))
    for n in (10, 20):
        want = (3 * n * L ** 3 / (4 * np.pi * (N - 1))) ** (1 / 3)
        assert r_cut_for_n_avg(R, [L] * 3, n) == pytest.approx(want, rel=0.01)


def test_r_cut_for_n_avg_lattice_counts_shells():
    # simple cubic lattice, spacing a: 6 neighbours at a, 12 at a*sqrt(2); n_avg 6 -> r just above a
    a, m = 0.3, 8
    g = np.stack(np.meshgrid(*[np.arange(m) * a] * 3, indexing="ij"), -1).reshape(1, -1, 3)
    r = r_cut_for_n_avg(g + 0.01, [m * a] * 3, 6.0)
    assert a - 1e-3 < r <= a + 1e-3
    with pytest.raises(ValueError, match="half the box"):
        r_cut_for_n_avg(g, [m * a] * 3, 500.0)


def test_variant_model_config():
    base = {"model": "mace", "hidden_irreps": "8x0e + 8x1o", "max_ell": 1}
    cfg = variant_model_config(base, {"correlation": 3, "num_layers": 1, "r_cut": 0.6})
    assert cfg == {**base, "correlation": 3, "num_layers": 1, "r_cut": 0.6}
    rng = np.random.default_rng(1)
    data = {"R": rng.uniform(0, 3.0, (10, 400, 3)), "box": np.array([3.0] * 3)}
    cfg = variant_model_config(base, {"n_avg": 10}, data)
    assert cfg["n_avg_target"] == 10 and 0.3 < cfg["r_cut"] < 0.6
    with pytest.raises(ValueError, match="unknown model key"):
        variant_model_config(base, {"corelation": 2})
    with pytest.raises(ValueError, match="either r_cut or n_avg"):
        variant_model_config(base, {"n_avg": 10, "r_cut": 0.5}, data)


@pytest.fixture
def hexane_template(tmp_path):
    """A small periodic two-site dataset (3 molecules) to serve as a template."""
    from mapmatters.cgdata import CGWriter, Topology

    top = Topology(species=np.zeros(6, np.int32), species_names=["A"], bead_names=np.array(["A1", "A2"] * 3),
                   masses=np.full(6, 43.0), molecule=np.repeat(np.arange(3), 2),
                   bonds=np.array([[0, 1], [2, 3], [4, 5]]), angles=np.zeros((0, 3), int),
                   dihedrals=np.zeros((0, 4), int), exclusions=np.array([[0, 1], [2, 3], [4, 5]]))
    x = np.random.default_rng(0).uniform(0, 2.0, (4, 6, 3)).astype(np.float32)
    path = tmp_path / "template.h5"
    with CGWriter(path, top, periodic=True, attrs={"observable_kind": "bond", "observable_beads": [0, 1],
                                                   "beads_per_molecule": 2, "n_molecules": 3},
                  forces=True) as w:
        w.append(x, np.zeros_like(x), np.repeat(np.diag([2.0] * 3)[None], 4, 0).astype(np.float32),
                 np.arange(4) * 0.2, np.arange(4))
    return path


def test_frames_to_dataset_wraps_and_keeps_topology(tmp_path, hexane_template):
    from mapmatters.cgdata import CGDataset, frames_to_dataset

    with CGDataset(hexane_template) as ds:
        x = ds.read("positions", 0, 3).astype(np.float64)
        side = np.diagonal(ds.read("box", 0, 1)[0])
        n_beads = ds.n_beads
    shifted = x + side            # one box length out: must wrap back
    n = frames_to_dataset(shifted, [0.5, 1.0, 1.5], hexane_template, tmp_path / "c.h5", source="test",
                          box_side=side)
    with CGDataset(tmp_path / "c.h5") as ds:
        assert n == 3 and ds.n_beads == n_beads and "forces" not in ds.f
        np.testing.assert_allclose(ds.read("positions"), x, atol=2e-5)
        np.testing.assert_allclose(ds.read("time"), [0.5, 1.0, 1.5])
    with pytest.raises(ValueError, match="do not fit"):
        frames_to_dataset(x[:, :5], [0, 1, 2], hexane_template, tmp_path / "d.h5", source="t", box_side=side)
    assert not (tmp_path / "d.h5").exists()


def test_table1_markdown(tmp_path):
    from mapmatters.figures.table1 import render_markdown, table1_rows

    entries = []
    for m in ("three-site", "two-site"):
        for v, nu in (("a", 1), ("b", 2)):
            met = {"model_config": {"model": "mace", "correlation": nu, "num_layers": 2, "r_cut": 0.7,
                                    "avg_num_neighbors": 19.5},
                   "n_frames": {"training": 80, "testing": 10}, "epochs": 2, "n_avg_target": 20,
                   "testing_force_error": {"rmse_mev_a": 400.0 + nu, "mae_mev_a": 300.0}}
            pairs = {"A-A": {"mean": 1.0 * nu, "sd": 0.5}} if m == "two-site" else \
                {"A-A": {"mean": 1.0, "sd": 0.1}, "A-B": {"mean": 2.0, "sd": 0.2}, "B-B": {"mean": 3.0, "sd": 0.3}}
            summ = {"n_runs": 3, "length_ps": 10, "stability_ps": {"mean": 10.0, "sd": 0.0},
                    "speed_ns_per_day": 5.0, "temperature_mean_K": {"mean": 300.0}, "rdf_error_1e-3": pairs}
            (tmp_path / f"{m}{v}m.json").write_text(json.dumps(met))
            (tmp_path / f"{m}{v}s.json").write_text(json.dumps(summ))
            entries.append({"mapping": m, "variant": v, "metrics": tmp_path / f"{m}{v}m.json",
                            "summary": tmp_path / f"{m}{v}s.json"})
    df = table1_rows(entries)
    assert len(df) == 4 and df.loc[3, "force_rmse_mev_a"] == 402.0
    md = render_markdown(df, title="T")
    assert "| two-site | A-A error (1e-3) ↓ | 1.0 (0.5) | 2.0 (0.5) |" in md
    assert "| two-site | A-B error" not in md          # two-site has one species
    assert "| three-site | B-B error (1e-3) ↓ | 3.0 (0.3) | 3.0 (0.3) |" in md
