"""Rule map_reference: map the reference trajectory to one CG dataset."""
from mapmatters.config import load_system
from mapmatters.io import write_json
from mapmatters.mapping import load_mappings
from mapmatters.mapping.trajectory import map_trajectory
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]) as log:
    system = load_system(snakemake.input.system)
    spec = load_mappings(system, source=snakemake.input.system)[snakemake.wildcards.mapping]
    stats = map_trajectory(snakemake.input.tpr, snakemake.input.trr, spec,
                           molecule_type=system["molecule"]["name"], out=snakemake.output.h5,
                           system=system["name"], chunk_frames=snakemake.params.chunk,
                           source=snakemake.input.system, log=log)
    write_json(snakemake.output.stats, stats)
