"""Rule table1: MLP variants x mappings (force error, stability, speed, RDF errors), CSV + Markdown."""
from mapmatters.figures.table1 import table1_rows, write_table
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    df = table1_rows(snakemake.params.entries)
    write_table(df, snakemake.output.csv, snakemake.output.md,
                title=f"Table 1: MLP variants per mapping ({snakemake.params.preset} preset)")
    print(df.to_string())
