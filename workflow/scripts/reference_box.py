"""Rule reference_box: n molecules in a cubic box at the configured density."""
from mapmatters.reference.protocol import build_box
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    build_box(snakemake.params.definition, snakemake.params.ref, snakemake.output.gro,
              seed=snakemake.params.seed, log=snakemake.log[0])
