"""Rule classical_table: one row per mapping with speed, stability and RDF errors."""
from mapmatters.analysis.aggregate import model_table, write_csv
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    df = model_table(snakemake.params.mappings, snakemake.input.summaries, snakemake.input.fits)
    write_csv(snakemake.output.csv, df)
    print(df.to_string())
