"""Rule reference_production: NVT production with positions + forces; resumes from checkpoints."""
from mapmatters.reference.protocol import produce
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    params = {**snakemake.params.ref, "threads": snakemake.threads}
    info = produce(snakemake.input.gro, snakemake.input.cpt, snakemake.input.top, params,
                   snakemake.output.tpr, snakemake.output.trr, snakemake.output.edr,
                   kind=snakemake.params.kind, solute=snakemake.params.solute, seed=snakemake.params.seed,
                   workdir=snakemake.params.workdir, log=snakemake.log[0])
    print(f"[reference_production] {info}")
