# Shared set-up: config validation, systems, paths and resource estimates.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from mapmatters.config import load_system, schema_errors, stage_seed  # noqa: E402
from mapmatters.errors import InputError  # noqa: E402
from mapmatters.io import load_yaml  # noqa: E402

try:
    validate(config, "../schemas/config.schema.yaml")
except WorkflowError:
    lines = schema_errors(config, load_yaml(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"))
    raise WorkflowError("config (config/config.yaml + --configfile/--config overrides) does not match "
                        "workflow/schemas/config.schema.yaml:\n  " + "\n  ".join(lines))

SYSTEMS = {}
for _name, _path in config["systems"].items():
    try:
        SYSTEMS[_name] = load_system(_path)
    except InputError as exc:
        raise WorkflowError(str(exc))
    if SYSTEMS[_name]["name"] != _name:
        raise WorkflowError(f"{_path}: key 'name' is '{SYSTEMS[_name]['name']}' but config 'systems' "
                            f"lists it as '{_name}'. Fix: use the same name in both places.")
    if _name not in config["reference"]:
        raise WorkflowError(f"config: key 'reference.{_name}' is missing. Fix: add the reference MD "
                            "parameters of this system (copy the hexane block in config/config.yaml).")

OUT = f"{config['results']}/{config['preset']}"


def _preset_banner():
    lines = [f"mapmatters: preset '{config['preset']}', outputs in {OUT}/"]
    for s, p in config["reference"].items():
        if s not in SYSTEMS:
            continue
        n_out = round(p["production_ps"] / p["dt_ps"] / p["output_every_steps"])
        lines.append(f"  {s} reference: production {p['production_ps'] / 1000:g} ns at dt {p['dt_ps'] * 1000:g} fs, "
                     f"positions+forces every {p['output_every_steps']} steps = {n_out} frames; "
                     f"equilibration {p['equilibration_ps']:g} ps; {p['temperature_K']:g} K; "
                     f"mappings: {', '.join(SYSTEMS[s]['mappings'])}")
    return "\n".join(lines)


logger.info(_preset_banner())
LOGS = f"{OUT}/logs"
BENCH = f"{OUT}/benchmarks"


wildcard_constraints:
    system="|".join(SYSTEMS),
    mapping="[A-Za-z0-9_-]+",
    variant="[A-Za-z0-9_.-]+",
    run="[0-9]+",


def mappings_of(system):
    return list(SYSTEMS[system]["mappings"])


def ref_params(wildcards):
    return config["reference"][wildcards.system]


def seed_for(*labels):
    return stage_seed(config["seed"], config["preset"], *labels)


def md_runtime_min(system, ps):
    """Wall-time budget (min) of a reference MD stage: 2x a pessimistic speed per thread."""
    p = config["reference"][system]
    ns_per_day = 25.0 * p["threads"] / 2.0 * (0.001 / p["dt_ps"])
    return int(max(10, 2.0 * ps / 1000.0 / ns_per_day * 1440))


for _s, _c in config["classical"].items():
    for _m in _c["mappings"]:
        if _s not in SYSTEMS or _m not in SYSTEMS[_s]["mappings"]:
            raise WorkflowError(f"config: key 'classical.{_s}.mappings' names '{_m}', which is not a mapping of a "
                                f"configured system. Fix: use mappings from config/systems/{_s}.yaml.")
_f1 = config["figures"]["figure1"]
for _m in _f1["mappings"]:
    if _f1["system"] not in SYSTEMS or _m not in SYSTEMS[_f1["system"]]["mappings"]:
        raise WorkflowError(f"config: key 'figures.figure1.mappings' names '{_m}', not a mapping of system "
                            f"'{_f1['system']}'. Fix: list mappings of that system.")


def _check_mlp(where, system, mappings, variants):
    if system not in SYSTEMS:
        raise WorkflowError(f"config: key '{where}.system' is '{system}', not a configured system. "
                            f"Fix: use one of {sorted(SYSTEMS)}.")
    for m in mappings:
        if m not in SYSTEMS[system]["mappings"]:
            raise WorkflowError(f"config: key '{where}' names mapping '{m}', not a mapping of system '{system}'. "
                                f"Fix: use mappings from config/systems/{system}.yaml.")
    known = config["mlp"].get(system, {}).get("variants", {})
    for v in variants:
        if v not in known:
            raise WorkflowError(f"config: key '{where}' names MLP variant '{v}', which is not defined under "
                                f"'mlp.{system}.variants'. Fix: define it there or use one of {sorted(known)}.")


def mlp_models():
    """(system, variant, mapping) of every MLP the figures and tables need, in a stable order."""
    f = config["figures"]
    want = [(f["figure1"]["system"], v, m) for m in f["figure1"]["mappings"] for v in f["figure1"]["mlp_variants"]]
    f2 = f["figure2"]
    want += [(f2["system"], v, m) for m in (f2["angle_mapping"], f2["rdf_mapping"]) for v in f2["variants"]]
    want += [(f["table1"]["system"], v, m) for m in f["table1"]["mappings"] for v in f["table1"]["variants"]]
    return list(dict.fromkeys(want))


_check_mlp("figures.figure1.mlp_variants", _f1["system"], _f1["mappings"], _f1["mlp_variants"])
_check_mlp("figures.figure2", config["figures"]["figure2"]["system"],
           [config["figures"]["figure2"]["angle_mapping"], config["figures"]["figure2"]["rdf_mapping"]],
           config["figures"]["figure2"]["variants"])
_check_mlp("figures.table1", config["figures"]["table1"]["system"], config["figures"]["table1"]["mappings"],
           config["figures"]["table1"]["variants"])
for _s in config["mlp"]:
    if _s not in SYSTEMS:
        raise WorkflowError(f"config: key 'mlp.{_s}' is not a configured system. Fix: add it under 'systems' "
                            "or remove the block.")


def all_targets():
    out = []
    for s in SYSTEMS:
        out.append(f"{OUT}/{s}/reference/summary.json")
        for m in mappings_of(s):
            out.append(f"{OUT}/{s}/analysis/reference/{m}/distributions.png")
        for m in config["classical"].get(s, {}).get("mappings", []):
            out += [f"{OUT}/{s}/classical/{m}/summary.json", f"{OUT}/{s}/classical/{m}/potentials.png"]
        if config["classical"].get(s, {}).get("mappings"):
            out.append(f"{OUT}/tables/classical_{s}.csv")
    for s, v, m in mlp_models():
        out += [f"{OUT}/{s}/mlp/{v}/{m}/summary.json", f"{OUT}/{s}/analysis/reference/{m}/permutation.json"]
    out += [f"{OUT}/figures/figure1.png", f"{OUT}/figures/figure1.pdf", f"{OUT}/figures/figure2.png",
            f"{OUT}/tables/table1.csv", f"{OUT}/tables/table1.md", f"{OUT}/tables/permutations.csv",
            f"{OUT}/provenance.json"]
    return list(dict.fromkeys(out))
