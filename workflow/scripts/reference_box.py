"""Rule reference_box: n molecules in a cubic box at the configured density."""
from mapmatters.config import load_system
from mapmatters.reference.protocol import build_box
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    system = load_system(snakemake.input.system)
    build_box(system, snakemake.params.ref, snakemake.output.gro, seed=snakemake.params.seed,
              log=snakemake.log[0])
