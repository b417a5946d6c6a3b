"""Rule classical_run: one LAMMPS NVT Langevin run of a fitted classical model."""
from mapmatters.cgdata import CGDataset
from mapmatters.classical import LammpsSettings, simulate
from mapmatters.rulelog import rule_log
from mapmatters.runs import start_frames

with rule_log(snakemake.log[0]):
    md = snakemake.params.md
    run = int(snakemake.wildcards.run)
    with CGDataset(snakemake.input.h5) as ds:
        frame = start_frames(ds.n_frames, md["n_runs"])[run]
    settings = LammpsSettings.from_config(md, seed=snakemake.params.seed)
    summary = simulate(snakemake.input.h5, snakemake.input.tables, snakemake.params.rundir, settings,
                       frame=frame)
    print(f"[classical_run] run {run} from reference frame {frame}: {summary}")
