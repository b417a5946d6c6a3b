# Helix formation of polyalanine (systems whose analyses include helix): per-frame helicity Q_hel,
# handedness chi_hel and R_g of the CA beads for the mapped reference and every model's stable
# frames (mapmatters.analysis.helix_runs), the table of their scores, Figures 5 and 6.


rule reference_helix:
    input:
        h5=rules.map_reference.output.h5,
    output:
        csv=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/helix.csv",
        json=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/helix.json",
    params:
        cfg=helix_cfg(),
        stride=config["analysis"]["frame_stride"],
    log:
        f"{LOGS}/{{system}}/reference_helix_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_helix_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/reference_helix.py"


rule mlp_helix:
    input:
        traj=rules.mlp_md.output.traj,
        runs=rules.mlp_analysis.output.runs,
        template=rules.map_reference.output.h5,
    output:
        csv=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/helix.csv",
        json=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/helix.json",
    params:
        cfg=helix_cfg(),
        stride=config["analysis"]["frame_stride"],
    log:
        f"{LOGS}/{{system}}/mlp_helix_{{variant}}_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/mlp_helix_{{variant}}_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=lambda w: 10 + mlp_cfg(w)["md"]["n_runs"] * int(mlp_cfg(w)["md"]["length_ps"]) // 2000,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/mlp_helix.py"


rule helix_table:
    input:
        jsons=lambda w: [e[k] for e in helix_table_entries(w.system) for k in ("json", "summary", "permutation")
                         if k in e],
    output:
        csv=report(f"{OUT}/tables/helix_{{system}}.csv", caption="../report/helix_table.rst", category="Tables",
                   labels={"table": "helix", "system": "{system}"}),
    params:
        entries=lambda w: helix_table_entries(w.system),
    log:
        f"{LOGS}/helix_table_{{system}}.log",
    benchmark:
        f"{BENCH}/helix_table_{{system}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/helix_table.py"


rule figure5:
    input:
        csv=lambda w: figure5_reference()["csv"],
        json=lambda w: figure5_reference()["json"],
    output:
        png=report(f"{OUT}/figures/figure5.png", caption="../report/figure5.rst", category="Figures",
                   labels={"figure": "Figure 5"}),
        pdf=f"{OUT}/figures/figure5.pdf",
    params:
        grid=helix_cfg(),
        temperature_K=lambda w: config["reference"][config["figures"]["figure5"]["system"]]["temperature_K"],
        label=lambda w: figure5_reference()["label"],
        title=lambda w: f"Figure 5b: F(chi_hel, Q_hel) of the {config['figures']['figure5']['system']} reference "
                        f"({config['preset']} preset)",
    log:
        f"{LOGS}/figure5.log",
    benchmark:
        f"{BENCH}/figure5.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/figure5.py"


rule figure6:
    input:
        reference=lambda w: [figure5_reference()["csv"], figure5_reference()["json"]],
        models=lambda w: [p[k] for p in helix_figure_panels(w.name) for k in ("csv", "json")],
    output:
        png=report(f"{OUT}/figures/{{name}}.png", caption="../report/figure6.rst", category="Figures",
                   labels={"figure": "{name}"}),
        pdf=f"{OUT}/figures/{{name}}.pdf",
    wildcard_constraints:
        name="figure6|figure6_si",
    params:
        panels=lambda w: helix_figure_panels(w.name),
        reference=lambda w: figure5_reference(),
        grid=helix_cfg(),
        temperature_K=lambda w: config["mlp"][config["figures"][w.name]["system"]]["md"]["temperature_K"],
        title=lambda w: f"{'Figure 6' if w.name == 'figure6' else 'Figure 6 (SI)'}: F(chi_hel, Q_hel) of CG "
                        f"{config['figures'][w.name]['system']} ({config['preset']} preset)",
    log:
        f"{LOGS}/{{name}}.log",
    benchmark:
        f"{BENCH}/{{name}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/figure6.py"
