"""Rule figure5: F(chi_hel, Q_hel) of the polyalanine reference."""
from mapmatters.figures.figure5 import plot_figure5
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    p = snakemake.params
    plot_figure5(snakemake.input.csv, snakemake.input.json, snakemake.output.png, snakemake.output.pdf,
                 grid=p.grid, temperature_K=p.temperature_K, label=p.label, title=p.title)
