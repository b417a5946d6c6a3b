"""Rule mlp_nve_scan: NVE (velocity Verlet) chains of one trained model at every time step of the
scan; per time step the fraction of stable chains and the energy drift (mapmatters.mlp.nve_scan)."""
from mapmatters.mlp.runtime import configure_job

# how the job runs (XLA flags, threads, compilation cache) is config, not a parameter: changing it reruns nothing
configure_job(snakemake.config, snakemake.threads)  # before jax is imported

from mapmatters.mlp.nve_scan import scan  # noqa: E402
from mapmatters.rulelog import rule_log  # noqa: E402

with rule_log(snakemake.log[0]):
    p = snakemake.params.scan   # the work folder (resume per time step) is nve_scan_work/ beside the CSV
    rows = scan(snakemake.input.params, snakemake.input.h5, snakemake.output.csv, dt_fs=p["dt_fs"],
                n_chains=p["n_chains"], length_ps=p["length_ps"], frame_every_ps=p["frame_every_ps"],
                temperature_K=p["temperature_K"], stability=snakemake.params.stability,
                seed=snakemake.params.seed, frames_per_chunk=p.get("frames_per_chunk", 20))
    for r in rows:
        print(f"[mlp_nve_scan] dt {r['dt_fs']:g} fs: stable fraction {r['stable_fraction']:.2f}, "
              f"drift {r['drift_kJ_mol_ps_dof_mean']:.3g} kJ/mol/ps per dof")
