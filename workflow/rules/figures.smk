# The paper's figures and tables, made from results (never by hand).


def figure1_models(system):
    """Models that have results for Figure 1 (classical now; MACE joins with its issue)."""
    return ["classical"] if system in config["classical"] else []


rule figure1:
    input:
        ref_bonded=lambda w: expand(f"{OUT}/{{s}}/analysis/reference/{{m}}/bonded.csv",
                                    s=config["figures"]["figure1"]["system"],
                                    m=config["figures"]["figure1"]["mappings"]),
        ref_rdf=lambda w: expand(f"{OUT}/{{s}}/analysis/reference/{{m}}/rdf.csv",
                                 s=config["figures"]["figure1"]["system"],
                                 m=config["figures"]["figure1"]["mappings"]),
        models=lambda w: [f"{OUT}/{config['figures']['figure1']['system']}/{model}/{m}/{kind}_runs.csv"
                          for m in config["figures"]["figure1"]["mappings"]
                          for model in figure1_models(config["figures"]["figure1"]["system"])
                          for kind in ("bonded", "rdf")],
    output:
        png=report(f"{OUT}/figures/figure1.png", caption="../report/figure1.rst", category="Figures",
                   labels={"figure": "Figure 1"}),
        pdf=f"{OUT}/figures/figure1.pdf",
    params:
        system=config["figures"]["figure1"]["system"],
        mappings=config["figures"]["figure1"]["mappings"],
        models=lambda w: figure1_models(config["figures"]["figure1"]["system"]),
        out=OUT,
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
                                   m=config["classical"][w.system]["mappings"]),
        fits=lambda w: expand(f"{OUT}/{w.system}/classical/{{m}}/fit.json",
                              m=config["classical"][w.system]["mappings"]),
    output:
        csv=report(f"{OUT}/tables/classical_{{system}}.csv", caption="../report/classical_table.rst",
                   category="Tables", labels={"table": "classical models", "system": "{system}"}),
    params:
        mappings=lambda w: config["classical"][w.system]["mappings"],
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
