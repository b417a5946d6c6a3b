"""Rule reference_topology: GROMACS topology of a liquid from its system YAML."""
from mapmatters.config import load_system
from mapmatters.reference.protocol import write_topology
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    system = load_system(snakemake.input.system)
    write_topology(system, snakemake.output.top, snakemake.output.itp)
