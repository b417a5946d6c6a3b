# Analyses shared by every trajectory source (reference now; classical and MACE later).


rule reference_distributions:
    input:
        h5=rules.map_reference.output.h5,
    output:
        bonded=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/bonded.csv",
        rdf=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/rdf.csv",
        png=report(f"{OUT}/{{system}}/analysis/reference/{{mapping}}/distributions.png",
                   caption="../report/reference_distributions.rst", category="Atomistic reference",
                   labels={"system": "{system}", "mapping": "{mapping}", "figure": "distributions"}),
    params:
        analysis=config["analysis"],
        analyses=lambda w: SYSTEMS[w.system]["analyses"],
        label=lambda w: f"{w.system} {w.mapping}, atomistic reference mapped ({config['preset']} preset)",
    log:
        f"{LOGS}/{{system}}/reference_distributions_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_distributions_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/reference_distributions.py"


rule reference_ramachandran:
    input:
        h5=rules.map_reference.output.h5,
    output:
        csv=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/ramachandran.csv",
        json=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/ramachandran.json",
    params:
        cfg=config["analysis"]["ramachandran"],
        temperature_K=lambda w: config["reference"][w.system]["temperature_K"],
        stride=config["analysis"]["frame_stride"],
    log:
        f"{LOGS}/{{system}}/reference_ramachandran_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_ramachandran_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/reference_ramachandran.py"
