"""Rule reference_solvate: a molecule built from its sequence, solvated (and neutralised) by GROMACS."""
from mapmatters.reference.protocol import build_solvated
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    info = build_solvated(snakemake.params.definition, snakemake.params.ref, snakemake.output.gro,
                          snakemake.output.top, seed=snakemake.params.seed, workdir=snakemake.params.workdir,
                          log=snakemake.log[0])
    print(f"[reference_solvate] {info}")
