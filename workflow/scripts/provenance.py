"""Rule provenance: preset, resolved config, tool versions and seeds of this results folder."""
from mapmatters.io import write_json
from mapmatters.provenance import provenance
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    write_json(snakemake.output.json, provenance(dict(snakemake.params.config), snakemake.params.seeds))
