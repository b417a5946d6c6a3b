# mapmatters: "Mapping Still Matters" (Görlich & Zavadlav, JCIM 2026), end to end.
#   snakemake --cores 2                                          # default preset
#   snakemake --cores 2 --configfile config/presets/ci.yaml      # minutes, for tests
#   snakemake --cores 2 --configfile config/presets/paper.yaml   # the paper's parameters
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


localrules:
    all,


include: "workflow/rules/common.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/mapping.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/diagnose.smk"
include: "workflow/rules/classical.smk"
include: "workflow/rules/mlp.smk"
include: "workflow/rules/nve.smk"
include: "workflow/rules/chirality.smk"
include: "workflow/rules/helix.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/provenance.smk"


rule all:
    input:
        all_targets(),
    default_target: True


# one target per system, so each runs alone: snakemake --cores 2 hexane
for _system in SYSTEMS:

    rule:
        name:
            _system
        input:
            all_targets(_system),
        localrule: True
