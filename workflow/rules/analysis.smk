# Analyses shared by every trajectory source (reference now; classical and MACE later).


rule reference_distributions:
    input:
        h5=rules.map_reference.output.h5,
    output:
        bonded=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/bonded.csv",
        rdf=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/rdf.csv",
        png=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/distributions.png",
    params:
        analysis=config["analysis"],
        label=lambda w: f"{w.system} {w.mapping}, atomistic reference mapped ({config['preset']} preset)",
    log:
        f"{LOGS}/{{system}}/reference_distributions_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_distributions_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/reference_distributions.py"
