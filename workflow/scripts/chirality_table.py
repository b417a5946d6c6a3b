"""Rule chirality_table: the chiral inversion barrier of every declared model, one row per model."""
from mapmatters.figures.figure4 import chirality_table
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    print(chirality_table(snakemake.params.entries, snakemake.output.csv).to_string())
