"""The study declaration: what is computed is declared once; figures select from it; adding a
mapping adds only that mapping's outputs; every bad cross-reference names the key and the fix."""
import copy

import pytest
import yaml
from conftest import ROOT

from mapmatters.errors import InputError
from mapmatters.io import load_yaml
from mapmatters.study import load_study, targets


def deep_update(base: dict, over: dict) -> dict:
    """Snakemake's --configfile merge: nested dicts merged, everything else replaced."""
    for k, v in over.items():
        base[k] = deep_update(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return base


def merged(*presets):
    cfg = load_yaml(ROOT / "config/config.yaml")
    for p in presets:
        deep_update(cfg, load_yaml(ROOT / f"config/presets/{p}.yaml"))
    return cfg


@pytest.fixture
def config(monkeypatch):
    monkeypatch.chdir(ROOT)
    return merged()


def test_default_study(config):
    study = load_study(config)
    assert set(study.systems) == {"hexane", "alanine", "glycine", "proline", "threonine", "polyalanine"}
    assert study.classical["hexane"] == ["four-site", "three-site", "two-site"]
    assert len(study.mlp_models("hexane")) == 23   # 18 Table 1 + 4 Figure 2 + 1 with priors
    assert ("hexane", "mace-nu2-L2-N20-prior", "two-site") in study.mlp
    # alanine: MACE on all ten mappings, NequIP on Core and Core Beta; GLY has no Core Beta
    assert len(study.mlp_models("alanine")) == 12 and ("alanine", "nequip", "core-beta") in study.mlp
    assert len(study.mlp_models("glycine")) == 3 and len(study.mlp_models("proline")) == 4
    # `like: alanine` gives the SI amino acids alanine's settings, their own keys over them
    ala = study.config["mlp"]["alanine"]
    assert study.config["mlp"]["proline"] == {**ala, "train": {**ala["train"], "stride": 1}}   # their short runs: every frame
    assert study.config["reference"]["glycine"]["production_ps"] == 30
    assert study.config["reference"]["glycine"]["cutoff_nm"] == study.config["reference"]["alanine"]["cutoff_nm"]
    assert ("hexane", "mace-nu1-L1-N20", "three-site") in study.mlp
    assert ("hexane", "mace-nu1-L1-N20", "four-site") not in study.mlp   # Figure 2 sweeps 3- and 2-site only


def test_a_figure_cannot_ask_for_a_model_the_study_does_not_compute(config):
    config = copy.deepcopy(config)
    config["figures"]["table1"]["variants"].append("mace-nu1-L1-N20")
    with pytest.raises(InputError, match=r"key 'figures.table1': 'figures.table1' shows MLP variant 'mace-nu1-L1-N20' "
                                         r"on mapping 'four-site', which 'study.hexane.mlp' does not compute.*Fix: add"):
        load_study(config)


@pytest.mark.parametrize("edit, match", [
    (lambda c: c["study"]["hexane"].update(classical=["five-site"]),
     r"key 'study.hexane.classical': .*'five-site', which is not a mapping of system 'hexane'"),
    (lambda c: c["study"]["hexane"]["mlp"][0]["variants"].append("mace-nu9"),
     r"'study.hexane.mlp\[0\].variants' names MLP variant 'mace-nu9', which is not defined under 'mlp.hexane.variants'"),
    (lambda c: c["study"].update(octane={}), r"key 'study.octane': 'study.octane' names a system that is not under"),
    (lambda c: c["reference"].pop("hexane"), r"key 'reference.hexane' is missing"),
    (lambda c: c["reference"].pop("alanine"), r"'reference.glycine.like' names 'alanine', which has no 'reference' entry"),
    (lambda c: c["reference"]["polyalanine"].update(start="hairpin"),
     r"'reference.polyalanine.start' is 'hairpin', which is not one of the system's molecule.start_conformations "
     r"\(extended, helix\)"),
    (lambda c: c["reference"]["alanine"].update(start="helix"),
     r"'reference.alanine.start' is 'helix', .*start_conformations \(none\)"),
    (lambda c: c["reference"]["alanine"].pop("npt_equilibration_ps"),
     r"'reference.alanine.npt_equilibration_ps' is missing; a 'solvated' system needs it"),
])
def test_bad_cross_references_are_named(config, edit, match):
    config = copy.deepcopy(config)
    edit(config)
    with pytest.raises(InputError, match=match):
        load_study(config)


def test_adding_a_mapping_adds_only_its_targets(config, tmp_path):
    before = set(targets(load_study(config), "out"))
    data = load_yaml(ROOT / "config/systems/hexane.yaml")
    data["mappings"]["three-site-Map2"] = copy.deepcopy(data["mappings"]["three-site"])
    edited = tmp_path / "hexane.yaml"
    edited.write_text(yaml.safe_dump(data, sort_keys=False))
    config = copy.deepcopy(config)
    config["systems"]["hexane"] = str(edited)
    after = set(targets(load_study(config), "out"))
    assert before <= after
    assert {p for p in after - before} == {"out/hexane/cg/three-site-Map2.stats.json",
                                           "out/hexane/analysis/reference/three-site-Map2/distributions.png",
                                           "out/hexane/diagnostics/three-site-Map2.json"}


def test_each_system_has_its_own_targets(config):
    study = load_study(config)
    ala = targets(study, "out", "alanine")
    assert ala and all(p.startswith("out/alanine/") or p in ("out/provenance.json", "out/tables/ramachandran_alanine.csv",
                                                             "out/tables/nve_scan_alanine.csv",
                                                             "out/tables/chirality_alanine.csv")
                       or p.startswith(("out/figures/figure3.", "out/figures/nve_scan_alanine.",
                                        "out/figures/figure4_alanine.")) for p in ala)
    assert "out/figures/figure1.png" in targets(study, "out", "hexane")


def test_presets_resolve(monkeypatch):
    monkeypatch.chdir(ROOT)
    for preset in ("ci", "paper"):
        study = load_study(merged(preset))
        assert study.mlp
    assert ("hexane", "nequip-L2-N20", "three-site") in load_study(merged("paper")).mlp


def test_like_follows_the_preset_and_catches_cycles(monkeypatch):
    from mapmatters.config import resolve_like

    monkeypatch.chdir(ROOT)
    paper_study = load_study(merged("paper"))
    assert len(paper_study.mlp_models("proline")) == 9          # every mapping at paper scale
    paper = paper_study.config
    # the paper preset changes alanine's training; proline (like alanine) follows it
    assert paper["mlp"]["proline"]["train"]["epochs"] == 50 == paper["mlp"]["alanine"]["train"]["epochs"]
    assert paper["reference"]["threonine"]["production_ps"] == 500000
    assert paper["reference"]["threonine"]["dt_ps"] == 0.0005
    # per-mapping run lengths merge key by key: the paper preset names the atomistic model again
    for system in ("alanine", "proline"):
        md = paper["mlp"][system]["md"]
        assert md["length_ps_by_mapping"]["atomistic"] == md["length_ps"] == 5000
        assert paper["mlp"][system]["metad"]["length_ps_by_mapping"]["atomistic"] == 2500
    for preset in ("ci", "paper"):
        cfg = merged(preset)["mlp"]["alanine"]
        assert cfg["md"]["length_ps_by_mapping"]["atomistic"] == cfg["md"]["length_ps"], preset
    # per-variant run lengths too: the default shortens Figure 2's one-layer hexane runs, which the
    # ci and paper presets name again (a key left out would keep the default's 20 ps)
    assert merged()["mlp"]["hexane"]["md"]["length_ps_by_variant"]["mace-nu1-L1-N20"] == 20
    for preset in ("ci", "paper"):
        md = merged(preset)["mlp"]["hexane"]["md"]
        assert set(md["length_ps_by_variant"].values()) == {md["length_ps"]}, preset
    cfg = {"mlp": {"a": {"like": "b"}, "b": {"like": "a"}}}
    with pytest.raises(InputError, match=r"'mlp.b.like' makes a cycle \(a -> b -> a\)"):
        resolve_like(cfg)
    with pytest.raises(InputError, match=r"'reference.z.like' names 'y', which has no 'reference' entry"):
        resolve_like({"reference": {"x": {"like": "z"}, "z": {"like": "y"}}})
    out = resolve_like({"mlp": {"a": {"md": {"n": 1, "dt": 2}, "k": 1}, "b": {"like": "a", "md": {"n": 5}}}})
    assert out["mlp"]["b"] == {"md": {"n": 5, "dt": 2}, "k": 1}


def test_a_preset_drops_a_system_with_null(monkeypatch):
    monkeypatch.chdir(ROOT)
    study = load_study(merged("ci"))
    assert set(study.systems) == {"hexane", "alanine"}
    assert not any("glycine" in t for t in targets(study, "out"))


def test_figure3_selects_only_declared_models(config):
    config = copy.deepcopy(config)
    study = load_study(config)
    files = targets(study, "out")
    assert "out/figures/figure3.pdf" in files and "out/figures/figure3_proline.png" in files
    assert "out/tables/ramachandran_alanine.csv" in files and "out/tables/ramachandran_hexane.csv" not in files
    assert "out/alanine/mlp/nequip/core/ramachandran.json" in files
    config["figures"]["figure3"]["rows"][0].append("core")
    config["figures"]["figure3"]["variant"] = "nequip"
    with pytest.raises(InputError, match=r"'figures.figure3' shows MLP variant 'nequip' on mapping 'atomistic'"):
        load_study(config)


def test_one_system_run_needs_no_other_system(config):
    study = load_study(config)
    for s in study.systems:
        others = set(study.systems) - {s}
        assert not [t for t in targets(study, "out", s) if any(f"/{o}/" in t or f"_{o}." in t for o in others)]


def test_nve_scans_are_declared_models(config):
    study = load_study(config)
    assert ("alanine", "mace", "atomistic") in study.nve and len(study.nve_models("alanine")) == 5
    assert "out/figures/nve_scan_alanine.png" in targets(study, "out", "alanine")
    config = copy.deepcopy(config)
    config["study"]["alanine"]["nve_scan"][0]["variants"] = ["nequip"]
    with pytest.raises(InputError, match=r"'study.alanine.nve_scan\[0\]' scans MLP variant 'nequip' on mapping "
                                         r"'atomistic', which 'study.alanine.mlp' does not compute"):
        load_study(config)


def test_metad_runs_are_declared_models(config):
    study = load_study(config)
    assert ("alanine", "mace", "core-beta") in study.metad and len(study.metad_models("alanine")) == 4
    assert ("alanine", "mace", "core") not in study.metad
    t = targets(study, "out", "alanine")
    for f in ("out/alanine/mlp/mace/core-beta/metad/hills.h5", "out/alanine/mlp/mace/atomistic/metad/metad.json",
              "out/tables/chirality_alanine.csv", "out/figures/figure4_alanine.png", "out/figures/figure4_alanine.pdf"):
        assert f in t
    assert not [f for f in targets(study, "out", "hexane") if "metad" in f or "figure4" in f or "chirality" in f]
    bad = copy.deepcopy(config)
    bad["study"]["alanine"]["metad"][0]["variants"] = ["nequip"]
    with pytest.raises(InputError, match=r"'study.alanine.metad\[0\]' runs metadynamics on MLP variant 'nequip' of "
                                         r"mapping 'atomistic', which 'study.alanine.mlp' does not compute"):
        load_study(bad)
    bad = copy.deepcopy(config)
    del bad["mlp"]["alanine"]["metad"]
    with pytest.raises(InputError, match=r"'mlp.alanine.metad' .* is missing"):
        load_study(bad)


def test_umbrella_checks_only_metadynamics_models(config):
    study = load_study(config)
    assert study.umbrella_models("alanine") == [("alanine", "mace", "heavy-atom")]
    assert "out/alanine/mlp/mace/heavy-atom/metad/umbrella.json" in targets(study, "out", "alanine")
    assert "out/alanine/mlp/mace/core-beta/metad/umbrella.json" not in targets(study, "out", "alanine")
    bad = copy.deepcopy(config)
    bad["study"]["alanine"]["umbrella"] = [{"mappings": ["heavy-atom", "core"], "variants": ["mace"]}]
    bad["study"]["alanine"]["metad"] = [{"mappings": ["heavy-atom"], "variants": ["mace"]}]
    with pytest.raises(InputError, match=r"'study.alanine.umbrella' checks the metadynamics barrier of \(core, mace\)"):
        load_study(bad)


def test_polyalanine_default_and_paper(monkeypatch):
    """Figure 6's models and its SI panel's (every CA species choice) at default, with the authors'
    cut-offs: 1.2 nm for CA, 0.5 nm for Core and Core Beta; a helix start except at paper scale."""
    monkeypatch.chdir(ROOT)
    study = load_study(merged())
    assert study.mlp_models("polyalanine") == [
        ("polyalanine", "mace-ca", m) for m in ("ca", "ca-single", "ca-alternating", "ca-symmetric")] + [
        ("polyalanine", "mace-ca-prior", "ca"), ("polyalanine", "mace", "core"), ("polyalanine", "mace", "core-beta")]
    assert study.config["mlp"]["polyalanine"]["variants"]["mace-ca-prior"]["prior"]["terms"] == ["bonds", "angles"]
    cfg = study.config
    assert cfg["mlp"]["polyalanine"]["variants"]["mace-ca"]["r_cut"] == 1.2
    assert cfg["mlp"]["polyalanine"]["variants"]["mace"]["r_cut"] == 0.5
    assert cfg["mlp"]["polyalanine"]["md"]["start_frames"] == "least_helical"
    assert cfg["reference"]["polyalanine"]["start"] == "helix"
    files = targets(study, "out", "polyalanine")
    for f in ("out/figures/figure5.png", "out/figures/figure6.pdf", "out/tables/helix_polyalanine.csv",
              "out/polyalanine/analysis/reference/ca/helix.json", "out/polyalanine/mlp/mace/core-beta/helix.json",
              "out/polyalanine/analysis/reference/ca/permutation.json", "out/figures/figure6_si.png"):
        assert f in files, f
    assert not [f for f in targets(study, "out", "alanine") if "polyalanine" in f or "figure5" in f]

    paper = load_study(merged("paper"))
    assert len(paper.mlp_models("polyalanine")) == 7
    assert ("polyalanine", "mace-ca", "ca-symmetric") in paper.mlp
    assert paper.config["reference"]["polyalanine"]["start"] == "extended"
    assert paper.config["reference"]["polyalanine"]["dt_ps"] == 0.0005          # like alanine at paper scale
    assert paper.config["mlp"]["polyalanine"]["md"]["n_runs"] == 100
    assert "out/figures/figure6_si.png" in targets(paper, "out")

    ci = load_study(merged("ci"))
    assert "polyalanine" not in ci.systems and not [f for f in targets(ci, "out") if "figure5" in f]


def test_figure6_cannot_show_an_undeclared_model(config):
    config = copy.deepcopy(config)
    config["figures"]["figure6"]["panels"].append({"mapping": "core", "variant": "mace-ca"})
    with pytest.raises(InputError, match=r"'figures.figure6' shows MLP variant 'mace-ca' on mapping 'core'"):
        load_study(config)
    config["figures"]["figure6"]["panels"].pop()
    config["figures"]["figure5"]["system"] = "alanine"
    with pytest.raises(InputError, match=r"'figures.figure5' shows system 'alanine', whose analyses do not include"):
        load_study(config)
