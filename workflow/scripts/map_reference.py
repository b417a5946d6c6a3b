"""Rule map_reference: map the reference trajectory to one CG dataset."""
from mapmatters.io import write_json
from mapmatters.mapping.trajectory import map_trajectory
from mapmatters.rulelog import rule_log
from mapmatters.system import mapping_spec

with rule_log(snakemake.log[0]) as log:
    definition = snakemake.params.definition
    source = snakemake.config["systems"][snakemake.wildcards.system]
    spec = mapping_spec(definition, snakemake.wildcards.mapping, source=source)
    stats = map_trajectory(snakemake.input.tpr, snakemake.input.trr, spec, system=definition,
                           out=snakemake.output.h5, chunk_frames=snakemake.params.chunk, source=source, log=log)
    write_json(snakemake.output.stats, stats)
