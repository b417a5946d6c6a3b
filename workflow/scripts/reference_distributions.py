"""Rule reference_distributions: bonded distribution + RDFs of the mapped reference, CSV + PNG."""
from mapmatters.analysis.pipeline import analyse_distributions
from mapmatters.figures.reference import plot_reference
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    out = snakemake.output
    info = analyse_distributions(snakemake.input.h5, snakemake.params.analysis, out.bonded, out.rdf,
                                 snakemake.params.analyses)
    print(f"[reference_distributions] {info}")
    plot_reference(out.bonded, out.rdf if info["rdf_pairs"] else None, out.png, system=snakemake.wildcards.system,
                   mapping=f"{snakemake.wildcards.mapping} (reference, {snakemake.config['preset']} preset)")
