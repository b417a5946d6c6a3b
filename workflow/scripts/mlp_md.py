"""Rule mlp_md: JAX-MD Langevin runs of one trained model, all runs vmapped, chunked, resumable."""
from mapmatters.mlp.runtime import configure_job

# how the job runs (XLA flags, threads, compilation cache) is config, not a parameter: changing it reruns nothing
configure_job(snakemake.config, snakemake.threads)  # before jax is imported

from mapmatters.mlp.simulation import simulate_model  # noqa: E402
from mapmatters.rulelog import rule_log  # noqa: E402

with rule_log(snakemake.log[0]):
    rec = simulate_model(snakemake.input.params, snakemake.input.h5, snakemake.output.traj,
                         snakemake.output.record, snakemake.params.md, seed=snakemake.params.seed,
                         stability=snakemake.params.stability)
    left = sum(r["left_stability_by_ps"] is not None for r in rec["runs"])
    print(f"[mlp_md] speed {rec['speed']}, blown up (engine guard) "
          f"{rec['blowup']['n_blown_up']}/{rec['n_chains']} runs, {left} left the stability criterion "
          f"(simulated {rec['n_frames_simulated']} frames); stability is the analysis' decision")
