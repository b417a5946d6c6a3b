"""Rule diagnose_mapping: bond-permutation risk, chirality and species symmetry of one mapping,
predicted from the mapped reference and the atomistic molecule of the reference .tpr."""
from mapmatters.diagnose import Thresholds, atomistic_from_tpr, diagnose_mapping
from mapmatters.io import write_json
from mapmatters.rulelog import rule_log
from mapmatters.system import mapping_spec

with rule_log(snakemake.log[0]):
    thresholds = Thresholds.from_config(snakemake.params.thresholds)
    atomistic = atomistic_from_tpr(snakemake.input.tpr, snakemake.params.molecule_type)
    spec = mapping_spec(snakemake.params.definition, snakemake.wildcards.mapping)
    result = diagnose_mapping(snakemake.input.h5, spec, atomistic, thresholds)
    write_json(snakemake.output.json, result)
    print(f"[diagnose_mapping] {result['summary']}")
