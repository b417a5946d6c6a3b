# Shared set-up: config validation, the study declaration (mapmatters.study), paths, seeds and
# resource estimates. The checks themselves live in the package, where unit tests reach them.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from mapmatters.config import resolve_like, schema_errors, stage_seed  # noqa: E402
from mapmatters.errors import InputError  # noqa: E402
from mapmatters.io import load_yaml  # noqa: E402
from mapmatters.study import load_study, preset_banner, targets  # noqa: E402
from mapmatters.system import analysis_definition, mapping_definition, reference_definition  # noqa: E402
from mapmatters.study import seeds as study_seeds  # noqa: E402

try:  # per-system entries `{like: <system>, ...}` (mapmatters.config.resolve_like), after the presets
    config.update(resolve_like(config))
except InputError as exc:
    raise WorkflowError(str(exc))

try:
    validate(config, "../schemas/config.schema.yaml")
except WorkflowError:
    lines = schema_errors(config, load_yaml(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml"))
    raise WorkflowError("config (config/config.yaml + --configfile/--config overrides) does not match "
                        "workflow/schemas/config.schema.yaml:\n  " + "\n  ".join(lines))

try:
    STUDY = load_study(config)
except InputError as exc:
    raise WorkflowError(str(exc))
SYSTEMS = STUDY.systems
OUT = f"{config['results']}/{config['preset']}"
LOGS = f"{OUT}/logs"
BENCH = f"{OUT}/benchmarks"
logger.info(preset_banner(STUDY, OUT))


wildcard_constraints:
    system="|".join(SYSTEMS),
    mapping="[A-Za-z0-9_-]+",
    variant="[A-Za-z0-9_.-]+",
    run="[0-9]+",


def mappings_of(system):
    return STUDY.mappings(system)


def mlp_models():
    """(system, variant, mapping) of every MLP the study declares."""
    return STUDY.mlp


def ref_params(wildcards):
    return config["reference"][wildcards.system]


def seed_for(*labels):
    return stage_seed(config["seed"], config["preset"], *labels)


def md_runtime_min(system, ps):
    """Wall-time budget (min) of a reference MD stage: 2x a pessimistic speed per thread
    (``reference.<system>.speed_ns_per_day`` on 2 threads at 1 fs; 25, a capped amino acid's box)."""
    p = config["reference"][system]
    ns_per_day = p.get("speed_ns_per_day", 25.0) * p["threads"] / 2.0 * (0.001 / p["dt_ps"])
    return int(max(10, 2.0 * ps / 1000.0 / ns_per_day * 1440))


def all_targets(system=None):
    return targets(STUDY, OUT, system)


# --- reference rules


def reference_definition_of(wildcards):
    return reference_definition(SYSTEMS[wildcards.system])


def systems_of_kind(kind):
    names = [s for s, d in SYSTEMS.items() if d["kind"] == kind]
    return "|".join(names) if names else "(?!)"


# --- classical rules


def classical_cfg(w):
    return config["classical"][w.system]


# --- mlp rules


def mlp_cfg(w):
    return config["mlp"][w.system]


def mlp_md_cfg(w):
    """The MD block of a model: the system's, with the mapping's own time step and run length if
    it has them, and the variant's own run length over both."""
    block = mlp_cfg(w)["md"]
    md = {k: v for k, v in block.items() if not k.endswith(("_by_mapping", "_by_variant"))}
    for key in ("dt_ps", "length_ps"):
        md[key] = block.get(f"{key}_by_mapping", {}).get(w.mapping, md[key])
    md["length_ps"] = block.get("length_ps_by_variant", {}).get(w.variant, md["length_ps"])
    return md


def has_analysis(system, name):
    return name in SYSTEMS[system]["analyses"]


def metad_entries(system):
    """The chirality metadynamics summaries of a system's declared models (study.<system>.metad), with the
    umbrella check's summary where study.<system>.umbrella asks for one (else None)."""
    return [{"system": s, "variant": v, "mapping": m, "json": f"{OUT}/{s}/mlp/{v}/{m}/metad/metad.json",
             "umbrella": f"{OUT}/{s}/mlp/{v}/{m}/metad/umbrella.json" if (s, v, m) in STUDY.umbrella else None}
            for s, v, m in STUDY.metad_models(system)]


def chirality_inputs(w):
    """The metadynamics summaries of a system's models and the umbrella checks of those that have one."""
    es = metad_entries(w.system)
    return [e["json"] for e in es] + [e["umbrella"] for e in es if e["umbrella"]]


def mlp_resources_gpu():
    return int(config["mlp_runtime"].get("gpu", 0))


def mlp_train_frames(w):
    p = config["reference"][w.system]
    frames = int(p["production_ps"] / p["dt_ps"] / p["output_every_steps"]) + 1
    t = mlp_cfg(w)["train"]
    frames //= t["stride"]
    return min(frames, t["max_frames"]) if t.get("max_frames") else frames


def mlp_train_minutes(w):
    """Pessimistic: 200 frames/s on a GPU (paper-size MACE, 400 beads), 5 frames/s on a CPU core.
    (The paper preset's 50 epochs over 500,000 frames need days: a job that hits the time limit
    resumes from its last epoch when resubmitted; lower ``train.max_frames`` to shorten it.)"""
    fps = 200.0 if mlp_resources_gpu() else 5.0
    return int(30 + 1.5 * mlp_cfg(w)["train"]["epochs"] * mlp_train_frames(w) / fps / 60)


# --- figures rules


def _figure3_cfg(system=None):
    return config["figures"]["figure3"] if system is None else config["figures"]["figure3_si"]


def figure3_rows(system=None):
    """Figure 3's rows of model panels (``system`` given: the SI panel of that system, its
    mappings with a model of the figure's variant, five per row)."""
    cfg = _figure3_cfg(system)
    s = cfg["system"] if system is None else system
    if system is None:
        rows = cfg["rows"]
    else:
        maps = [m for (_, v, m) in STUDY.mlp_models(s) if v == cfg["variant"]]
        rows = [maps[i:i + 5] for i in range(0, len(maps), 5)]
    base = f"{OUT}/{s}/mlp/{cfg['variant']}"
    return [[{"mapping": m, "model": f"{base}/{m}/ramachandran.csv", "model_json": f"{base}/{m}/ramachandran.json"}
             for m in row] for row in rows]


def figure3_entries():
    return [e for row in figure3_rows() for e in row]


def figure3_reference(system=None):
    cfg = _figure3_cfg(system)
    s = cfg["system"] if system is None else system
    m = cfg["reference_mapping"]
    base = f"{OUT}/{s}/analysis/reference/{m}"
    return {"csv": f"{base}/ramachandran.csv", "json": f"{base}/ramachandran.json",
            "label": f"reference ({m} beads)"}


def ramachandran_table_entries(s):
    """Every Ramachandran result of a system: each mapping's reference and each model."""
    out = []
    if has_analysis(s, "ramachandran"):
        out += [{"system": s, "mapping": m, "source": "reference",
                 "json": f"{OUT}/{s}/analysis/reference/{m}/ramachandran.json"} for m in mappings_of(s)]
        out += [{"system": s, "mapping": m, "source": v, "json": f"{OUT}/{s}/mlp/{v}/{m}/ramachandran.json"}
                for (_, v, m) in STUDY.mlp_models(s)]
    return out


def figure1_models(system):
    """Result folders (below {OUT}/{system}/) of the models in Figure 1: classical, then MLPs."""
    out = ["classical"] if STUDY.classical.get(system) else []
    return out + [f"mlp/{v}" for v in config["figures"]["figure1"]["mlp_variants"]]


def model_bonded_file(model, mapping):
    """MLPs on a bond mapping show the nearest-neighbour distance (their bond partners switch)."""
    kind = SYSTEMS[config["figures"]["figure1"]["system"]]["mappings"][mapping]["observable"]["kind"]
    return "nn_runs.csv" if model.startswith("mlp/") and kind == "bond" else "bonded_runs.csv"


def mlp_entries(system, mappings, variants):
    return [{"mapping": m, "variant": v, "metrics": f"{OUT}/{system}/mlp/{v}/{m}/metrics.json",
             "summary": f"{OUT}/{system}/mlp/{v}/{m}/summary.json",
             "reference": f"{OUT}/{system}/analysis/reference/{m}/permutation.json"}
            for m in mappings for v in variants]


def figure1_columns():
    """Figure 1's panels: per mapping, the reference and every model's result files."""
    from mapmatters.figures.figure1 import model_label

    f1 = config["figures"]["figure1"]
    base = f"{OUT}/{f1['system']}"
    return [{"mapping": m, "title": f"{m} model",
             "reference_bonded": f"{base}/analysis/reference/{m}/bonded.csv",
             "reference_rdf": f"{base}/analysis/reference/{m}/rdf.csv",
             "models": {model_label(model, model_bonded_file(model, m)):
                        {"bonded": f"{base}/{model}/{m}/{model_bonded_file(model, m)}",
                         "rdf": f"{base}/{model}/{m}/rdf_runs.csv"}
                        for model in figure1_models(f1["system"])}}
            for m in f1["mappings"]]


# --- helix rules (polyalanine: Figures 5 and 6)


def helix_cfg():
    return config["analysis"]["helix"]


def helix_table_entries(s):
    """Every helix result of a system: each mapping's reference (with its bond-permutation summary
    where the system has that analysis) and each model (with its summary.json)."""
    out = [{"system": s, "mapping": m, "source": "reference",
            "json": f"{OUT}/{s}/analysis/reference/{m}/helix.json",
            **({"permutation": f"{OUT}/{s}/analysis/reference/{m}/permutation.json"}
               if has_analysis(s, "permutation") else {})} for m in mappings_of(s)]
    out += [{"system": s, "mapping": m, "source": v, "json": f"{OUT}/{s}/mlp/{v}/{m}/helix.json",
             "summary": f"{OUT}/{s}/mlp/{v}/{m}/summary.json"} for (_, v, m) in STUDY.mlp_models(s)]
    return out


def figure5_reference():
    """The reference panel of Figures 5 and 6: the helix series of figures.figure5's mapping."""
    f5 = config["figures"]["figure5"]
    base = f"{OUT}/{f5['system']}/analysis/reference/{f5['reference_mapping']}"
    return {"csv": f"{base}/helix.csv", "json": f"{base}/helix.json",
            "label": f"atomistic reference ({f5['reference_mapping']} beads)"}


def helix_figure_panels(name):
    """Figure 6 (or its SI panel): per (mapping, variant) the model's helix files and the ALA
    template's beads (for the drawing of the mapping)."""
    fig = config["figures"][name]
    s = fig["system"]
    out = []
    for p in fig["panels"]:
        base = f"{OUT}/{s}/mlp/{p['variant']}/{p['mapping']}"
        residues = SYSTEMS[s]["mappings"][p["mapping"]].get("residues", {})
        out.append({**p, "csv": f"{base}/helix.csv", "json": f"{base}/helix.json",
                    "beads": residues.get("ALA", {}).get("beads", [])})
    return out
