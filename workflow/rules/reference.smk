# Atomistic reference MD with GROMACS: topology and box (a liquid from its atom list, or a
# molecule built from its sequence and solvated), minimisation, equilibration, NVT production
# (positions + forces, resumable from checkpoints). Every rule takes the system's reference
# definition as a parameter, not the system file: editing a mapping reruns nothing here.


# GROMACS runs ask for both cores, so a 1-thread MLP job running beside them would block them;
# scheduled first, the references of every system finish early and the MLP jobs that follow them
# fill both cores in pairs (the last default run idled a core for minutes behind an MLP job).
REFERENCE_PRIORITY = 10


rule reference_topology:
    output:
        top=f"{OUT}/{{system}}/reference/topol.top",
        itp=f"{OUT}/{{system}}/reference/molecule.itp",
    params:
        definition=reference_definition_of,
    wildcard_constraints:
        system=systems_of_kind("liquid"),
    log:
        f"{LOGS}/{{system}}/reference_topology.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_topology.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/reference.yaml"
    script:
        "../scripts/reference_topology.py"


rule reference_box:
    input:
        structure=lambda w: SYSTEMS[w.system]["molecule"]["structure"],
    output:
        gro=f"{OUT}/{{system}}/reference/box.gro",
    params:
        definition=reference_definition_of,
        ref=ref_params,
        seed=lambda w: seed_for(w.system, "insert"),
    wildcard_constraints:
        system=systems_of_kind("liquid"),
    log:
        f"{LOGS}/{{system}}/reference_box.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_box.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/reference.yaml"
    script:
        "../scripts/reference_box.py"


rule reference_solvate:
    output:
        gro=f"{OUT}/{{system}}/reference/box.gro",
        top=f"{OUT}/{{system}}/reference/topol.top",
    params:
        definition=reference_definition_of,
        ref=ref_params,
        seed=lambda w: seed_for(w.system, "insert"),
        workdir=lambda w: f"{OUT}/{w.system}/reference/work/build",
    wildcard_constraints:
        system=systems_of_kind("solvated"),
    log:
        f"{LOGS}/{{system}}/reference_solvate.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_solvate.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/reference.yaml"
    script:
        "../scripts/reference_solvate.py"


rule reference_minimise:
    input:
        gro=f"{OUT}/{{system}}/reference/box.gro",
        top=f"{OUT}/{{system}}/reference/topol.top",
    output:
        gro=f"{OUT}/{{system}}/reference/em.gro",
    params:
        ref=ref_params,
        workdir=lambda w: f"{OUT}/{w.system}/reference/work/em",
    log:
        f"{LOGS}/{{system}}/reference_minimise.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_minimise.tsv"
    threads: lambda w: config["reference"][w.system]["threads"]
    priority: REFERENCE_PRIORITY
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/reference.yaml"
    script:
        "../scripts/reference_minimise.py"


rule reference_equilibrate:
    input:
        gro=rules.reference_minimise.output.gro,
        top=f"{OUT}/{{system}}/reference/topol.top",
    output:
        gro=f"{OUT}/{{system}}/reference/equil.gro",
        cpt=f"{OUT}/{{system}}/reference/equil.cpt",
    params:
        ref=ref_params,
        kind=lambda w: SYSTEMS[w.system]["kind"],
        seed=lambda w: seed_for(w.system, "equilibrate"),
        workdir=lambda w: f"{OUT}/{w.system}/reference/work/equil",
    log:
        f"{LOGS}/{{system}}/reference_equilibrate.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_equilibrate.tsv"
    threads: lambda w: config["reference"][w.system]["threads"]
    priority: REFERENCE_PRIORITY
    resources:
        mem_mb=2000,
        runtime=lambda w: md_runtime_min(w.system, config["reference"][w.system]["equilibration_ps"]
                                         + config["reference"][w.system].get("npt_equilibration_ps", 0)),
    conda:
        "../../envs/reference.yaml"
    script:
        "../scripts/reference_equilibrate.py"


rule reference_production:
    input:
        gro=rules.reference_equilibrate.output.gro,
        cpt=rules.reference_equilibrate.output.cpt,
        top=f"{OUT}/{{system}}/reference/topol.top",
    output:
        tpr=f"{OUT}/{{system}}/reference/production.tpr",
        trr=f"{OUT}/{{system}}/reference/production.trr",
        edr=f"{OUT}/{{system}}/reference/production.edr",
    params:
        ref=ref_params,
        kind=lambda w: SYSTEMS[w.system]["kind"],
        solute=lambda w: SYSTEMS[w.system]["molecule"]["name"] if SYSTEMS[w.system]["kind"] == "solvated" else None,
        seed=lambda w: seed_for(w.system, "production"),
        workdir=lambda w: f"{OUT}/{w.system}/reference/work/production",
    log:
        f"{LOGS}/{{system}}/reference_production.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_production.tsv"
    threads: lambda w: config["reference"][w.system]["threads"]
    priority: REFERENCE_PRIORITY
    resources:
        mem_mb=4000,
        runtime=lambda w: md_runtime_min(w.system, config["reference"][w.system]["production_ps"]),
    conda:
        "../../envs/reference.yaml"
    script:
        "../scripts/reference_production.py"


rule reference_summary:
    input:
        tpr=rules.reference_production.output.tpr,
        trr=rules.reference_production.output.trr,
        edr=rules.reference_production.output.edr,
    output:
        json=f"{OUT}/{{system}}/reference/summary.json",
    params:
        ref=ref_params,
        definition=reference_definition_of,
        workdir=lambda w: f"{OUT}/{w.system}/reference/work/summary",
    log:
        f"{LOGS}/{{system}}/reference_summary.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_summary.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/reference.yaml"
    script:
        "../scripts/reference_summary.py"
