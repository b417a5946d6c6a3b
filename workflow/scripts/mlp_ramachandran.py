"""Rule mlp_ramachandran: the Ramachandran map of a model's stable frames and its distance to the
reference's."""
from mapmatters.analysis.backbone import model_ramachandran
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    model_ramachandran(i.traj, i.runs, i.template, i.reference, p.cfg, p.temperature_K, o.csv, o.json,
                       stride=p.stride)
