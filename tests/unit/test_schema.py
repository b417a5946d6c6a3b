"""Config and system files are validated against the JSON schemas with messages naming keys."""
import copy

import pytest
import yaml

from mapmatters.config import SCHEMAS, resolve_like, schema_errors, stage_seed
from mapmatters.errors import InputError
from mapmatters.io import load_yaml
from mapmatters.system import load_system


def merged(root, preset=None):
    cfg = load_yaml(root / "config" / "config.yaml")
    if preset:
        over = load_yaml(root / "config" / "presets" / f"{preset}.yaml")

        def merge(a, b):
            for k, v in b.items():
                if isinstance(v, dict) and isinstance(a.get(k), dict):
                    merge(a[k], v)
                else:
                    a[k] = v
        merge(cfg, over)
    return resolve_like(cfg)          # as common.smk: `like` entries resolved after the presets


@pytest.mark.parametrize("preset", [None, "ci", "paper"])
def test_presets_validate(root, preset):
    schema = load_yaml(SCHEMAS / "config.schema.yaml")
    assert schema_errors(merged(root, preset), schema) == []


def test_paper_preset_has_paper_parameters(root):
    ref = merged(root, "paper")["reference"]["hexane"]
    assert ref["production_ps"] == 100000 and ref["dt_ps"] == 0.001 and ref["output_every_steps"] == 200
    assert round(ref["production_ps"] / ref["dt_ps"] / ref["output_every_steps"]) == 500_000


def test_wrong_key_and_value_are_named(root):
    schema = load_yaml(SCHEMAS / "config.schema.yaml")
    cfg = merged(root)
    cfg["reference"]["hexane"]["dt_ps"] = -1
    cfg["reference"]["hexane"]["prodution_ps"] = 5
    errs = "\n".join(schema_errors(cfg, schema))
    assert "key 'reference.hexane.dt_ps'" in errs and "-1" in errs
    assert "prodution_ps" in errs and "unknown key" in errs


def test_system_schema_errors_name_file_and_key(tmp_path, hexane_yaml):
    data = load_yaml(hexane_yaml)
    bad = copy.deepcopy(data)
    del bad["mappings"]["two-site"]["beads"][0]["species"]
    p = tmp_path / "sys.yaml"
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError) as exc:
        load_system(p)
    msg = str(exc.value)
    assert str(p) in msg and "mappings.two-site.beads[0]" in msg and "'species' is a required property" in msg


def test_stage_seeds_are_stable_and_distinct():
    assert stage_seed(22, "ci", "hexane", "production") == stage_seed(22, "ci", "hexane", "production")
    assert stage_seed(22, "ci", "hexane", "production") != stage_seed(22, "ci", "hexane", "equilibrate")
    assert 0 <= stage_seed(1, "x") < 2**31
