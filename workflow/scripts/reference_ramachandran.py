"""Rule reference_ramachandran: P(phi, psi), basins and symmetry scores of a mapped reference."""
from mapmatters.analysis.backbone import reference_ramachandran
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    p = snakemake.params
    info = reference_ramachandran(snakemake.input.h5, p.cfg, p.temperature_K, snakemake.output.csv,
                                  snakemake.output.json, stride=p.stride)
    print(f"[reference_ramachandran] {info['n_samples']} samples, basins {info['basins']}, "
          f"point symmetry {info['point_symmetry']:.3f}, D-form fraction {info['d_form_fraction']}")
