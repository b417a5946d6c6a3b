"""Rule classical_fit: VOTCA force matching of one mapping; tables + potential plots."""
from mapmatters.classical import FitOptions, fit_model, load_tables
from mapmatters.figures.classical import plot_tables
from mapmatters.rulelog import rule_log

with rule_log(snakemake.log[0]):
    fit = snakemake.params.fit
    options = FitOptions(frames_per_block=fit["frames_per_block"], stride=fit["frame_stride"],
                         pair_cutoff=fit["pair_cutoff_nm"], min_count=fit["min_count"])
    summary = fit_model(snakemake.input.h5, snakemake.params.outdir, options,
                        temperature=snakemake.params.temperature, log=snakemake.log[0])
    print(f"[classical_fit] {summary}")
    tables, _ = load_tables(snakemake.output.tables)
    w = snakemake.wildcards
    plot_tables(tables, snakemake.output.png,
                title=f"{w.system} {w.mapping}: classical CG potentials ({snakemake.config['preset']} preset)")
