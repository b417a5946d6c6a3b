"""Rules *_summary: runs of one model -> mean/sd distributions, RDF errors, stability, speed."""
from mapmatters.analysis.aggregate import summarise_model
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    out = snakemake.output
    summary = summarise_model(snakemake.params.model, snakemake.input.runs, snakemake.input.bonded,
                              snakemake.input.rdf, snakemake.input.ref_rdf, out_json=out.json,
                              out_bonded=out.bonded, out_rdf=out.rdf, out_errors=out.errors)
    print(summary)
