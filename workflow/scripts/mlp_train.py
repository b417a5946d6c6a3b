"""Rule mlp_train: chemtrain force matching of one MLP variant on one mapping (resumable)."""
from mapmatters.mlp.runtime import configure_job

# how the job runs (XLA flags, threads, compilation cache) is config, not a parameter: changing it reruns nothing
configure_job(snakemake.config, snakemake.threads)  # before jax is imported

from mapmatters.mlp.pipeline import train_variant  # noqa: E402
from mapmatters.mlp.runtime import describe  # noqa: E402
from mapmatters.rulelog import rule_log  # noqa: E402

with rule_log(snakemake.log[0]):
    p = snakemake.params
    print(f"[mlp_train] {describe()}")
    metrics = train_variant(snakemake.input.h5, p.outdir, p.base, p.variant, p.train, seed=p.seed)
    print(f"[mlp_train] r_cut {metrics['r_cut_nm']} nm ({metrics['r_cut_from']}), "
          f"test force error {metrics.get('testing_force_error')}")
