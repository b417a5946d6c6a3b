"""Rules *_run_analysis: one CG run -> the shared analysis path (stable frames only)."""
import json

from mapmatters.analysis.pipeline import analyse_distributions, write_empty_distributions
from mapmatters.cgdata import trajectory_to_dataset
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    run = json.load(open(snakemake.input.run))
    n = trajectory_to_dataset(snakemake.input.xtc, snakemake.input.template, snakemake.output.h5,
                              source=snakemake.rule, stop_ps=run["stable_ps"])
    print(f"[run_analysis] {n} stable frames (stable for {run['stable_ps']} ps)")
    if n:
        info = analyse_distributions(snakemake.output.h5, snakemake.params.analysis,
                                     snakemake.output.bonded, snakemake.output.rdf)
        print(f"[run_analysis] {info}")
    else:
        write_empty_distributions(snakemake.input.template, snakemake.output.bonded, snakemake.output.rdf)
