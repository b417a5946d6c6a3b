"""Rule permutation_table: bond-permutation rates of every MLP next to the mapped reference."""
from mapmatters.analysis.aggregate import write_csv
from mapmatters.figures.table1 import permutation_table
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    df = permutation_table(snakemake.params.entries)
    write_csv(snakemake.output.csv, df)
    print(df.to_string())
