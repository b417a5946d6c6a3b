"""Rule mlp_helix: per-frame helicity, handedness and R_g of a model's stable frames, and scores."""
from mapmatters.analysis.helix_runs import model_helix
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    model_helix(i.traj, i.runs, i.template, p.cfg, o.csv, o.json, stride=p.stride)
