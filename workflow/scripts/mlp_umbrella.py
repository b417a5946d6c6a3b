"""Rule mlp_umbrella: umbrella sampling of one trained model along the improper N-CA-CB-C and its free
energy by MBAR, the independent check of the metadynamics barrier (mapmatters.mlp.chirality)."""
from mapmatters.mlp.runtime import configure_job

# how the job runs (XLA flags, threads, compilation cache) is config, not a parameter: changing it reruns nothing
configure_job(snakemake.config, snakemake.threads)  # before jax is imported

from mapmatters.mlp.chirality import inversion_umbrella  # noqa: E402
from mapmatters.rulelog import rule_log  # noqa: E402

with rule_log(snakemake.log[0]):
    # the work folder (resume per chunk) is work/ beside the outputs, shared with mlp_metad's
    s = inversion_umbrella(snakemake.input.params, snakemake.input.h5, snakemake.input.metad, snakemake.output.h5,
                           snakemake.output.summary, snakemake.params.block, start=snakemake.params.start,
                           seed=snakemake.params.seed, mapping=snakemake.wildcards.mapping,
                           stability=snakemake.params.stability)
    c = s["comparison"]
    print(f"[mlp_umbrella] barrier {s['barrier_kcal_mol']} +- {s['barrier_err_kcal_mol']} kcal/mol (MBAR; "
          f"{s['barrier_note']}); metadynamics {c['metad_barrier_kcal_mol']} +- {c['metad_err_kcal_mol']}; "
          f"difference {c['difference_kcal_mol']}, agree: {c['agree']} ({c['rule']})")
