"""Rule diagnostics_table: every mapping's diagnostics in one table, and a summary line each."""
from mapmatters.diagnose import write_diagnostics_table
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    for line in write_diagnostics_table(snakemake.input.jsons, snakemake.output.csv):
        print(line)
