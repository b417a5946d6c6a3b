"""Rule reference_equilibrate: NVT equilibration (v-rescale, velocities from the seed), then NPT
for solvated systems."""
from mapmatters.reference.protocol import equilibrate
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    params = {**snakemake.params.ref, "threads": snakemake.threads}
    equilibrate(snakemake.input.gro, snakemake.input.top, params, snakemake.output.gro,
                snakemake.output.cpt, kind=snakemake.params.kind, seed=snakemake.params.seed,
                workdir=snakemake.params.workdir, log=snakemake.log[0])
