"""Rule reference_helix: per-frame helicity, handedness and R_g of a mapped reference, and scores."""
from mapmatters.analysis.helix_runs import reference_helix
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    p = snakemake.params
    info = reference_helix(snakemake.input.h5, p.cfg, snakemake.output.csv, snakemake.output.json, stride=p.stride)
    print(f"[reference_helix] {info['n_frames']} frames, right {info.get('right_fraction')}, "
          f"left {info.get('left_fraction')}, mirror symmetry {info.get('mirror_symmetry')}")
