# Diagnostics of each mapping from the mapped reference alone, before any model is trained:
# bond-permutation risk, chirality, species symmetry (mapmatters.diagnose).


rule diagnose_mapping:
    input:
        h5=rules.map_reference.output.h5,
        tpr=rules.reference_production.output.tpr,
    output:
        json=f"{OUT}/{{system}}/diagnostics/{{mapping}}.json",
    params:
        definition=lambda w: mapping_definition(SYSTEMS[w.system], w.mapping),
        molecule_type=lambda w: SYSTEMS[w.system]["molecule"]["name"],
        thresholds=config["diagnose"],
    log:
        f"{LOGS}/{{system}}/diagnose_mapping_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/diagnose_mapping_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=lambda w: md_runtime_min(w.system, config["reference"][w.system]["production_ps"]) // 10 + 10,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/diagnose_mapping.py"


rule diagnostics_table:
    input:
        jsons=lambda w: [f"{OUT}/{s}/diagnostics/{m}.json" for s in SYSTEMS for m in mappings_of(s)],
    output:
        csv=report(f"{OUT}/tables/diagnostics.csv", caption="../report/diagnostics.rst", category="Tables",
                   labels={"table": "mapping diagnostics"}),
    log:
        f"{LOGS}/diagnostics_table.log",
    benchmark:
        f"{BENCH}/diagnostics_table.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/diagnostics_table.py"
