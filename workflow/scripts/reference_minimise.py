"""Rule reference_minimise: steepest-descent energy minimisation."""
from mapmatters.reference.protocol import minimise
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    params = {**snakemake.params.ref, "threads": snakemake.threads}
    minimise(snakemake.input.gro, snakemake.input.top, params, snakemake.output.gro,
             workdir=snakemake.params.workdir, log=snakemake.log[0])
