"""Rule ramachandran_table: the numbers of Figure 3 (and its SI panels), one row per result."""
from mapmatters.analysis.aggregate import write_csv
from mapmatters.figures.figure3 import ramachandran_rows
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    df = ramachandran_rows(snakemake.params.entries)
    write_csv(snakemake.output.csv, df)
    print(df.to_string())
