# Chirality (finding 5): well-tempered metadynamics of trained MLPs along the improper N-CA-CB-C,
# one job per (system, variant, mapping) (all walkers vmapped, resumable per chunk); per system a
# table of barriers and Figure 4 over the models the study declares (study.<system>.metad); the
# umbrella-sampling + MBAR check of the barrier for the models study.<system>.umbrella names.
from mapmatters.mlp.chirality import engine_settings as metad_settings  # noqa: E402
from mapmatters.mlp.chirality import runtime_minutes as metad_minutes  # noqa: E402
from mapmatters.mlp.chirality import umbrella_settings  # noqa: E402


rule mlp_metad:
    input:
        params=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/params.pkl",
        h5=rules.map_reference.output.h5,
    output:
        hills=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/metad/hills.h5",
        summary=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/metad/metad.json",
    params:
        settings=lambda w: metad_settings(mlp_cfg(w)["metad"], w.mapping),
        walkers=lambda w: mlp_cfg(w)["metad"]["walkers"],
        start=lambda w: mlp_cfg(w)["metad"]["start"],
        seed=lambda w: seed_for(w.system, w.mapping, w.variant, "metad"),
        stability=lambda w: SYSTEMS[w.system]["stability"],   # frames of a fallen-apart molecule do not count
    log:
        f"{LOGS}/{{system}}/mlp_metad_{{variant}}_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/mlp_metad_{{variant}}_{{mapping}}.tsv"
    threads: config["mlp_runtime"]["threads"]
    resources:
        mem_mb=lambda w: 4000 + 2 * mlp_cfg(w)["metad"]["walkers"] * int(mlp_cfg(w)["metad"]["length_ps"]),
        runtime=lambda w: metad_minutes(mlp_cfg(w)["metad"], w.mapping, bool(mlp_resources_gpu())),
        gpu=mlp_resources_gpu(),
    conda:
        "../../envs/mlp.yaml"
    script:
        "../scripts/mlp_metad.py"


rule mlp_umbrella:
    input:
        params=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/params.pkl",
        h5=rules.map_reference.output.h5,
        metad=rules.mlp_metad.output.summary,
    output:
        h5=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/metad/umbrella.h5",
        summary=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/metad/umbrella.json",
    params:
        block=lambda w: mlp_cfg(w)["umbrella"],
        start=lambda w: mlp_cfg(w)["metad"]["start"],
        seed=lambda w: seed_for(w.system, w.mapping, w.variant, "umbrella"),
        stability=lambda w: SYSTEMS[w.system]["stability"],
    log:
        f"{LOGS}/{{system}}/mlp_umbrella_{{variant}}_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/mlp_umbrella_{{variant}}_{{mapping}}.tsv"
    threads: config["mlp_runtime"]["threads"]
    resources:
        mem_mb=lambda w: 4000 + mlp_cfg(w)["umbrella"]["windows"] * int(mlp_cfg(w)["umbrella"]["length_ps"]),
        runtime=lambda w: metad_minutes({**umbrella_settings(mlp_cfg(w)["umbrella"]),
                                         "walkers": mlp_cfg(w)["umbrella"]["windows"]}, w.mapping,
                                        bool(mlp_resources_gpu())),
        gpu=mlp_resources_gpu(),
    conda:
        "../../envs/mlp.yaml"
    script:
        "../scripts/mlp_umbrella.py"


rule chirality_table:
    input:
        summaries=chirality_inputs,
    output:
        csv=report(f"{OUT}/tables/chirality_{{system}}.csv", caption="../report/chirality.rst", category="Tables",
                   labels={"table": "chiral inversion barriers", "system": "{system}"}),
    params:
        entries=lambda w: metad_entries(w.system),
    log:
        f"{LOGS}/chirality_table_{{system}}.log",
    benchmark:
        f"{BENCH}/chirality_table_{{system}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/chirality_table.py"


rule figure4:
    input:
        summaries=chirality_inputs,
    output:
        png=report(f"{OUT}/figures/figure4_{{system}}.png", caption="../report/chirality.rst", category="Figures",
                   labels={"figure": "Figure 4: chiral inversion", "system": "{system}"}),
        pdf=f"{OUT}/figures/figure4_{{system}}.pdf",
    params:
        entries=lambda w: metad_entries(w.system),
        preset=config["preset"],
    log:
        f"{LOGS}/figure4_{{system}}.log",
    benchmark:
        f"{BENCH}/figure4_{{system}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/figure4.py"
