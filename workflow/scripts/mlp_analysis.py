"""Rule mlp_analysis: every run of one MLP -> the shared analysis path -> mean/sd, RDF errors,
nearest-neighbour distances and bond permutations."""
from mapmatters.analysis.mlp_runs import analyse_md
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    i, o = snakemake.input, snakemake.output
    summary = analyse_md(i.traj, i.record, i.template, i.ref_rdf, snakemake.params.analysis,
                         system=snakemake.params.system, model=snakemake.params.model, runs_dir=o.runs,
                         out={"json": o.json, "bonded": o.bonded, "rdf": o.rdf, "errors": o.errors,
                              "nn": o.nn, "permutation": o.permutation})
    print(f"[mlp_analysis] {summary}")
