"""Rule figure4: free energy along the chirality improper per mapping, and the barrier-top frame."""
from mapmatters.figures.figure4 import plot_figure4
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    plot_figure4(snakemake.params.entries, snakemake.output.png, snakemake.output.pdf,
                 title=f"Figure 4: chiral inversion, {snakemake.wildcards.system} ({snakemake.params.preset} preset)")
