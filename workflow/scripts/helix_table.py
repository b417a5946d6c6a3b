"""Rule helix_table: the helix scores of a system's reference and models in one CSV."""
from mapmatters.analysis.aggregate import write_csv
from mapmatters.analysis.helix_runs import table
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    df = table(snakemake.params.entries)
    write_csv(snakemake.output.csv, df)
    print(df.to_string(index=False))
