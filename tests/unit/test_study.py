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
    assert set(study.systems) == {"hexane", "alanine"}
    assert study.classical["hexane"] == ["four-site", "three-site", "two-site"]
    assert len(study.mlp_models("hexane")) == 22 and not study.mlp_models("alanine")
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
    (lambda c: c["reference"].pop("alanine"), r"key 'reference.alanine' is missing"),
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
    assert ala and all(p.startswith("out/alanine/") or p == "out/provenance.json" for p in ala)
    assert "out/figures/figure1.png" in targets(study, "out", "hexane")


def test_presets_resolve(monkeypatch):
    monkeypatch.chdir(ROOT)
    for preset in ("ci", "paper"):
        study = load_study(merged(preset))
        assert study.mlp
    assert ("hexane", "nequip-L2-N20", "three-site") in load_study(merged("paper")).mlp
