# Provenance: what made this results folder (preset, resolved config, tool versions, seeds).


rule provenance:
    output:
        json=f"{OUT}/provenance.json",
    params:
        config=config,
        seeds=study_seeds(STUDY, seed_for),
    log:
        f"{LOGS}/provenance.log",
    benchmark:
        f"{BENCH}/provenance.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/provenance.py"
