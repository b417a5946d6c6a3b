"""Rule figure1: hexane Figure 1 from the reference and model results."""
from mapmatters.figures.figure1 import plot_figure1
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    p = snakemake.params
    plot_figure1(p.columns, snakemake.output.png, snakemake.output.pdf,
                 title=f"{p.system}: reference vs CG models ({p.preset} preset)")
