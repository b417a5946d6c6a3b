"""Rule reference_topology: GROMACS topology of a liquid from its reference definition."""
from mapmatters.reference.protocol import write_topology
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    write_topology(snakemake.params.definition, snakemake.output.top, snakemake.output.itp)
