# The paper's figures and tables, made from results (never by hand).


rule figure1:
    input:
        files=lambda w: [c[k] for c in figure1_columns() for k in ("reference_bonded", "reference_rdf")]
        + [f for c in figure1_columns() for files in c["models"].values() for f in files.values()],
    output:
        png=report(f"{OUT}/figures/figure1.png", caption="../report/figure1.rst", category="Figures",
                   labels={"figure": "Figure 1"}),
        pdf=f"{OUT}/figures/figure1.pdf",
    params:
        system=config["figures"]["figure1"]["system"],
        columns=lambda w: figure1_columns(),
        preset=config["preset"],
    log:
        f"{LOGS}/figure1.log",
    benchmark:
        f"{BENCH}/figure1.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/figure1.py"


rule classical_table:
    input:
        summaries=lambda w: expand(f"{OUT}/{w.system}/classical/{{m}}/summary.json",
                                   m=STUDY.classical[w.system]),
        fits=lambda w: expand(f"{OUT}/{w.system}/classical/{{m}}/fit.json",
                              m=STUDY.classical[w.system]),
    output:
        csv=report(f"{OUT}/tables/classical_{{system}}.csv", caption="../report/classical_table.rst",
                   category="Tables", labels={"table": "classical models", "system": "{system}"}),
    params:
        mappings=lambda w: STUDY.classical[w.system],
    log:
        f"{LOGS}/classical_table_{{system}}.log",
    benchmark:
        f"{BENCH}/classical_table_{{system}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/classical_table.py"


rule figure2:
    input:
        ref_a=lambda w: f"{OUT}/{config['figures']['figure2']['system']}/analysis/reference/"
                        f"{config['figures']['figure2']['angle_mapping']}/bonded.csv",
        ref_b=lambda w: f"{OUT}/{config['figures']['figure2']['system']}/analysis/reference/"
                        f"{config['figures']['figure2']['rdf_mapping']}/rdf.csv",
        models_a=lambda w: [f"{OUT}/{config['figures']['figure2']['system']}/mlp/{v}/"
                            f"{config['figures']['figure2']['angle_mapping']}/bonded_runs.csv"
                            for v in config["figures"]["figure2"]["variants"]],
        models_b=lambda w: [f"{OUT}/{config['figures']['figure2']['system']}/mlp/{v}/"
                            f"{config['figures']['figure2']['rdf_mapping']}/rdf_runs.csv"
                            for v in config["figures"]["figure2"]["variants"]],
        metrics=lambda w: [f"{OUT}/{config['figures']['figure2']['system']}/mlp/{v}/{m}/metrics.json"
                           for v in config["figures"]["figure2"]["variants"]
                           for m in (config["figures"]["figure2"]["angle_mapping"],
                                     config["figures"]["figure2"]["rdf_mapping"])],
    output:
        png=report(f"{OUT}/figures/figure2.png", caption="../report/figure2.rst", category="Figures",
                   labels={"figure": "Figure 2"}),
        pdf=f"{OUT}/figures/figure2.pdf",
    params:
        cfg=config["figures"]["figure2"],
        preset=config["preset"],
    log:
        f"{LOGS}/figure2.log",
    benchmark:
        f"{BENCH}/figure2.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/figure2.py"


rule table1:
    input:
        metrics=lambda w: [e["metrics"] for e in mlp_entries(config["figures"]["table1"]["system"],
                                                               config["figures"]["table1"]["mappings"],
                                                               config["figures"]["table1"]["variants"])],
        summaries=lambda w: [e["summary"] for e in mlp_entries(config["figures"]["table1"]["system"],
                                                                 config["figures"]["table1"]["mappings"],
                                                                 config["figures"]["table1"]["variants"])],
    output:
        csv=report(f"{OUT}/tables/table1.csv", caption="../report/table1.rst", category="Tables",
                   labels={"table": "Table 1 (CSV)"}),
        md=report(f"{OUT}/tables/table1.md", caption="../report/table1.rst", category="Tables",
                  labels={"table": "Table 1 (rendered)"}),
    params:
        entries=lambda w: mlp_entries(config["figures"]["table1"]["system"], config["figures"]["table1"]["mappings"],
                                      config["figures"]["table1"]["variants"]),
        preset=config["preset"],
    log:
        f"{LOGS}/table1.log",
    benchmark:
        f"{BENCH}/table1.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/table1.py"


rule permutation_table:
    input:
        summaries=lambda w: [f"{OUT}/{s}/mlp/{v}/{m}/summary.json" for s, v, m in mlp_models()],
        references=lambda w: [f"{OUT}/{s}/analysis/reference/{m}/permutation.json" for s, v, m in mlp_models()],
    output:
        csv=report(f"{OUT}/tables/permutations.csv", caption="../report/permutations.rst", category="Tables",
                   labels={"table": "bond permutations"}),
    params:
        entries=lambda w: [{"system": s, "mapping": m, "variant": v,
                            "summary": f"{OUT}/{s}/mlp/{v}/{m}/summary.json",
                            "reference": f"{OUT}/{s}/analysis/reference/{m}/permutation.json"}
                           for s, v, m in mlp_models()],
    log:
        f"{LOGS}/permutation_table.log",
    benchmark:
        f"{BENCH}/permutation_table.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/permutation_table.py"


rule figure3:
    input:
        files=lambda w: [e[k] for e in figure3_entries() for k in ("model", "model_json")],
        reference=lambda w: figure3_reference()["csv"],
    output:
        png=report(f"{OUT}/figures/figure3.png", caption="../report/figure3.rst", category="Figures",
                   labels={"figure": "Figure 3"}),
        pdf=f"{OUT}/figures/figure3.pdf",
    params:
        rows=lambda w: figure3_rows(),
        reference=lambda w: figure3_reference(),
        title=lambda w: (f"{config['figures']['figure3']['system']}: F(phi, psi), reference and "
                         f"{config['figures']['figure3']['variant']} per mapping ({config['preset']} preset)"),
    log:
        f"{LOGS}/figure3.log",
    benchmark:
        f"{BENCH}/figure3.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/figure3.py"


rule figure3_si:
    input:
        files=lambda w: [e[k] for row in figure3_rows(w.system) for e in row for k in ("model", "model_json")],
        reference=lambda w: figure3_reference(w.system)["csv"],
    output:
        png=report(f"{OUT}/figures/figure3_{{system}}.png", caption="../report/figure3.rst", category="Figures",
                   labels={"figure": "Figure 3 (SI)", "system": "{system}"}),
        pdf=f"{OUT}/figures/figure3_{{system}}.pdf",
    params:
        rows=lambda w: figure3_rows(w.system),
        reference=lambda w: figure3_reference(w.system),
        title=lambda w: (f"{w.system}: F(phi, psi), reference and {config['figures']['figure3_si']['variant']} "
                         f"per mapping ({config['preset']} preset)"),
    log:
        f"{LOGS}/figure3_{{system}}.log",
    benchmark:
        f"{BENCH}/figure3_{{system}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/figure3.py"


rule ramachandran_table:
    input:
        files=lambda w: [e["json"] for e in ramachandran_table_entries(w.system)],
    output:
        csv=report(f"{OUT}/tables/ramachandran_{{system}}.csv", caption="../report/ramachandran_table.rst",
                   category="Tables", labels={"table": "Ramachandran scores", "system": "{system}"}),
    params:
        entries=lambda w: ramachandran_table_entries(w.system),
    log:
        f"{LOGS}/ramachandran_table_{{system}}.log",
    benchmark:
        f"{BENCH}/ramachandran_table_{{system}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/ramachandran_table.py"


rule claims:
    input:
        results=lambda w: [f for f in all_targets() if not f.endswith(("claims.csv", "claims.md", "provenance.json"))],
    output:
        csv=report(f"{OUT}/claims.csv", caption="../report/claims.rst", category="Claims", labels={"table": "claims"}),
        md=report(f"{OUT}/claims.md", caption="../report/claims.rst", category="Claims",
                  labels={"table": "claims (rendered)"}),
        confusion=report(f"{OUT}/tables/diagnostics_vs_outcomes.csv", caption="../report/claims.rst",
                         category="Claims", labels={"table": "diagnostics vs outcomes"}),
    params:
        out=lambda w, output: str(Path(output.csv).parent),
        figures=config["figures"],
        systems=list(SYSTEMS),
        preset=config["preset"],
    log:
        f"{LOGS}/claims.log",
    benchmark:
        f"{BENCH}/claims.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/claims.py"
