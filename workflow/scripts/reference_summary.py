"""Rule reference_summary: temperature, density, frame count and force-sum checks."""
from mapmatters.reference.protocol import summarise
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    stats = dict(zip(snakemake.params.mappings, snakemake.input.stats))
    summary = summarise(snakemake.input.tpr, snakemake.input.trr, snakemake.input.edr, stats,
                        snakemake.output.json, params=snakemake.params.ref,
                        system=snakemake.wildcards.system, workdir=snakemake.params.workdir,
                        log=snakemake.log[0])
    print(summary)
