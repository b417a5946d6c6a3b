"""Rule classical_run_analysis: one CG run -> stability (the system's criterion) -> the shared
analysis path on its stable frames."""
from mapmatters.analysis.pipeline import analyse_engine_run
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    i, o = snakemake.input, snakemake.output
    analyse_engine_run(i.xtc, i.run, i.thermo, i.template, snakemake.params.analysis, snakemake.params.system,
                       out_h5=o.h5, out_bonded=o.bonded, out_rdf=o.rdf, out_json=o.run, source=snakemake.rule)
