# Atomistic reference -> CG dataset (COM positions, summed forces), one per mapping. A mapping's
# dataset depends on the reference and on that mapping's own definition only.


rule map_reference:
    input:
        tpr=rules.reference_production.output.tpr,
        trr=rules.reference_production.output.trr,
    output:
        h5=f"{OUT}/{{system}}/cg/{{mapping}}.h5",
        stats=f"{OUT}/{{system}}/cg/{{mapping}}.stats.json",
    params:
        definition=lambda w: mapping_definition(SYSTEMS[w.system], w.mapping),
        chunk=config["mapping"]["chunk_frames"],
    log:
        f"{LOGS}/{{system}}/map_reference_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/map_reference_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=lambda w: 2000 + config["mapping"]["chunk_frames"] * 2,
        runtime=lambda w: md_runtime_min(w.system, config["reference"][w.system]["production_ps"]) // 10 + 10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/map_reference.py"
