"""Rule mlp_metad: well-tempered metadynamics of one trained model along the improper N-CA-CB-C
(chiral inversion), walkers vmapped from the reference frame nearest C7eq (mapmatters.mlp.chirality)."""
from mapmatters.mlp.runtime import configure_job

# how the job runs (XLA flags, threads, compilation cache) is config, not a parameter: changing it reruns nothing
configure_job(snakemake.config, snakemake.threads)  # before jax is imported

from mapmatters.mlp.chirality import inversion_metad  # noqa: E402
from mapmatters.rulelog import rule_log  # noqa: E402

with rule_log(snakemake.log[0]):
    # the work folder (resume per chunk) is work/ beside the outputs
    s = inversion_metad(snakemake.input.params, snakemake.input.h5, snakemake.output.hills,
                        snakemake.output.summary, snakemake.params.settings, start=snakemake.params.start,
                        seed=snakemake.params.seed, walkers=snakemake.params.walkers,
                        mapping=snakemake.wildcards.mapping, stability=snakemake.params.stability)
    print(f"[mlp_metad] barrier {s['barrier_kcal_mol']} +- {s['barrier_err_kcal_mol']} kcal/mol ({s['barrier_note']}), "
          f"{s['n_crossed']}/{s['n_walkers']} walkers crossed, {s['n_intact']} intact, "
          f"lower bound {s['lower_bound_kcal_mol']} kcal/mol")
