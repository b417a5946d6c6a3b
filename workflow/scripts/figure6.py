"""Rules figure6 / figure6_si: F(chi_hel, Q_hel) of CG polyalanine, one panel per mapping's MLP."""
from mapmatters.figures.figure6 import plot_figure6
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    p = snakemake.params
    plot_figure6(p.panels, p.reference, snakemake.output.png, snakemake.output.pdf, grid=p.grid,
                 temperature_K=p.temperature_K, title=p.title)
