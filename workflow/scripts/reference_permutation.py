"""Rule reference_permutation: bond-permutation series of the mapped reference (the baseline
for the MLP runs: how often a bead's nearest bonded-type neighbour is not its partner; and,
under ``any_species``, its nearest bead of any species)."""
from mapmatters.analysis.aggregate import write_csv
from mapmatters.analysis.permutation import dataset_permutation_summaries
from mapmatters.cgdata import CGDataset
from mapmatters.io import write_json
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    with CGDataset(snakemake.input.h5) as ds:
        series, summary = dataset_permutation_summaries(ds, stride=snakemake.params.stride)
    write_csv(snakemake.output.csv, series)
    write_json(snakemake.output.json, summary)
    print(f"[reference_permutation] {summary}")
