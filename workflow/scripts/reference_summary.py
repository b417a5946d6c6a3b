"""Rule reference_summary: temperature, density, frame count (and the solute's constraint check)."""
from mapmatters.reference.protocol import summarise
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    summary = summarise(snakemake.input.tpr, snakemake.input.trr, snakemake.input.edr, snakemake.output.json,
                        params=snakemake.params.ref, system=snakemake.params.definition,
                        workdir=snakemake.params.workdir, log=snakemake.log[0])
    print(summary)
