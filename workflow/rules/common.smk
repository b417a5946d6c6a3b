# Shared set-up: config validation, the study declaration (mapmatters.study), paths, seeds and
# resource estimates. The checks themselves live in the package, where unit tests reach them.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "src"))
from mapmatters.config import schema_errors, stage_seed  # noqa: E402
from mapmatters.errors import InputError  # noqa: E402
from mapmatters.io import load_yaml  # noqa: E402
from mapmatters.study import load_study, preset_banner, targets  # noqa: E402
from mapmatters.system import analysis_definition, mapping_definition, reference_definition  # noqa: E402
from mapmatters.study import seeds as study_seeds  # noqa: E402

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
    """Wall-time budget (min) of a reference MD stage: 2x a pessimistic speed per thread."""
    p = config["reference"][system]
    ns_per_day = 25.0 * p["threads"] / 2.0 * (0.001 / p["dt_ps"])
    return int(max(10, 2.0 * ps / 1000.0 / ns_per_day * 1440))


def all_targets(system=None):
    return targets(STUDY, OUT, system)
