# NVE time-step scan of trained MLPs (the paper's capped-alanine stability test): one job per
# (system, variant, mapping) runs every time step (all chains vmapped, one time step after the
# other, resumable per time step); per system one figure and one table over the scans the study
# declares (study.<system>.nve_scan).
from mapmatters.mlp.nve_scan import runtime_minutes as nve_scan_minutes  # noqa: E402


rule mlp_nve_scan:
    input:
        params=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/params.pkl",
        h5=rules.map_reference.output.h5,
    output:
        csv=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/nve_scan.csv",
    params:
        scan=lambda w: mlp_cfg(w)["nve_scan"],
        stability=lambda w: SYSTEMS[w.system]["stability"],
        seed=lambda w: seed_for(w.system, w.mapping, w.variant, "nve_scan"),
    log:
        f"{LOGS}/{{system}}/mlp_nve_scan_{{variant}}_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/mlp_nve_scan_{{variant}}_{{mapping}}.tsv"
    threads: config["mlp_runtime"]["threads"]
    resources:
        # one time step's frames of all chains are read back at once (positions, float32)
        mem_mb=lambda w: 4000 + 2 * mlp_cfg(w)["nve_scan"]["n_chains"] * int(mlp_cfg(w)["nve_scan"]["length_ps"]),
        runtime=lambda w: nve_scan_minutes(mlp_cfg(w)["nve_scan"], bool(mlp_resources_gpu())),
        gpu=mlp_resources_gpu(),
    conda:
        "../../envs/mlp.yaml"
    script:
        "../scripts/mlp_nve_scan.py"


rule figure_nve:
    input:
        scans=lambda w: [f"{OUT}/{s}/mlp/{v}/{m}/nve_scan.csv" for s, v, m in STUDY.nve_models(w.system)],
    output:
        png=report(f"{OUT}/figures/nve_scan_{{system}}.png", caption="../report/nve_scan.rst", category="Figures",
                   labels={"figure": "NVE time-step scan", "system": "{system}"}),
        pdf=f"{OUT}/figures/nve_scan_{{system}}.pdf",
        csv=report(f"{OUT}/tables/nve_scan_{{system}}.csv", caption="../report/nve_scan.rst", category="Tables",
                   labels={"table": "NVE time-step scan", "system": "{system}"}),
    params:
        entries=lambda w: [{"system": s, "variant": v, "mapping": m, "csv": f"{OUT}/{s}/mlp/{v}/{m}/nve_scan.csv"}
                           for s, v, m in STUDY.nve_models(w.system)],
        preset=config["preset"],
    log:
        f"{LOGS}/figure_nve_{{system}}.log",
    benchmark:
        f"{BENCH}/figure_nve_{{system}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/figure_nve.py"
