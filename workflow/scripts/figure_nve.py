"""Rule figure_nve: stable fraction and energy drift against the NVE time step, one line per
mapping, and the combined table of every scan."""
from mapmatters.figures.nve import nve_table, plot_nve
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    table = nve_table(snakemake.params.entries, snakemake.output.csv)
    plot_nve(table, snakemake.output.png, snakemake.output.pdf,
             title=f"NVE time-step scan ({snakemake.params.preset} preset)")
    print(table.to_string())
