"""Rules figure3 / figure3_si: Ramachandran free energies of the reference and each mapping's MLP."""
from mapmatters.figures.figure3 import plot_figure3
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    p = snakemake.params
    plot_figure3(p.rows, p.reference, snakemake.output.png, snakemake.output.pdf, title=p.title)
