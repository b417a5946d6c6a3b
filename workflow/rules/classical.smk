# Classical CG models: VOTCA force matching -> tabulated potentials -> LAMMPS NVT Langevin runs.
# (The paper ran these in GROMACS SD; GROMACS 2022 has no tabulated non-bonded potentials.)


rule classical_fit:
    input:
        h5=rules.map_reference.output.h5,
    output:
        tables=f"{OUT}/{{system}}/classical/{{mapping}}/tables.json",
        fit=f"{OUT}/{{system}}/classical/{{mapping}}/fit.json",
        png=report(f"{OUT}/{{system}}/classical/{{mapping}}/potentials.png",
                   caption="../report/classical_potentials.rst", category="Classical CG models",
                   labels={"system": "{system}", "mapping": "{mapping}", "figure": "fitted potentials"}),
    params:
        fit=lambda w: classical_cfg(w)["fit"],
        temperature=lambda w: classical_cfg(w)["md"]["temperature_K"],
        outdir=lambda w: f"{OUT}/{w.system}/classical/{w.mapping}",
    log:
        f"{LOGS}/{{system}}/classical_fit_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/classical_fit_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=lambda w: 30 + config["reference"][w.system]["production_ps"] // 100,
    conda:
        "../../envs/classical.yaml"
    script:
        "../scripts/classical_fit.py"


rule classical_run:
    input:
        h5=rules.map_reference.output.h5,
        tables=rules.classical_fit.output.tables,
    output:
        xtc=f"{OUT}/{{system}}/classical/{{mapping}}/run{{run}}/traj.xtc",
        pdb=f"{OUT}/{{system}}/classical/{{mapping}}/run{{run}}/cg.pdb",
        thermo=f"{OUT}/{{system}}/classical/{{mapping}}/run{{run}}/thermo.csv",
        run=f"{OUT}/{{system}}/classical/{{mapping}}/run{{run}}/run.json",
    params:
        md=lambda w: classical_cfg(w)["md"],
        seed=lambda w: seed_for(w.system, w.mapping, "classical", w.run),
        rundir=lambda w: f"{OUT}/{w.system}/classical/{w.mapping}/run{w.run}",
    log:
        f"{LOGS}/{{system}}/classical_run_{{mapping}}_{{run}}.log",
    benchmark:
        f"{BENCH}/{{system}}/classical_run_{{mapping}}_{{run}}.tsv"
    # LAMMPS runs serially; run 0 is the speed measurement, so it asks for two cores to have
    # the machine to itself on a 2-core workstation.
    threads: lambda w: 2 if int(w.run) == 0 else 1
    resources:
        mem_mb=1000,
        runtime=lambda w: 10 + int(classical_cfg(w)["md"]["length_ps"] / 1000 * 1440 / 200),
    conda:
        "../../envs/classical.yaml"
    script:
        "../scripts/classical_run.py"


rule classical_run_analysis:
    input:
        xtc=rules.classical_run.output.xtc,
        run=rules.classical_run.output.run,
        thermo=rules.classical_run.output.thermo,
        template=rules.map_reference.output.h5,
    output:
        h5=temp(f"{OUT}/{{system}}/classical/{{mapping}}/run{{run}}/traj.h5"),
        bonded=f"{OUT}/{{system}}/classical/{{mapping}}/run{{run}}/bonded.csv",
        rdf=f"{OUT}/{{system}}/classical/{{mapping}}/run{{run}}/rdf.csv",
        run=f"{OUT}/{{system}}/classical/{{mapping}}/run{{run}}/analysis.json",
    params:
        analysis=config["analysis"],
        system=lambda w: analysis_definition(SYSTEMS[w.system]),
    log:
        f"{LOGS}/{{system}}/classical_run_analysis_{{mapping}}_{{run}}.log",
    benchmark:
        f"{BENCH}/{{system}}/classical_run_analysis_{{mapping}}_{{run}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../../envs/classical.yaml"
    script:
        "../scripts/model_run_analysis.py"


rule classical_summary:
    input:
        runs=lambda w: expand(f"{OUT}/{w.system}/classical/{w.mapping}/run{{run}}/analysis.json",
                              run=range(classical_cfg(w)["md"]["n_runs"])),
        bonded=lambda w: expand(f"{OUT}/{w.system}/classical/{w.mapping}/run{{run}}/bonded.csv",
                                run=range(classical_cfg(w)["md"]["n_runs"])),
        rdf=lambda w: expand(f"{OUT}/{w.system}/classical/{w.mapping}/run{{run}}/rdf.csv",
                             run=range(classical_cfg(w)["md"]["n_runs"])),
        ref_rdf=rules.reference_distributions.output.rdf,
    output:
        json=f"{OUT}/{{system}}/classical/{{mapping}}/summary.json",
        bonded=f"{OUT}/{{system}}/classical/{{mapping}}/bonded_runs.csv",
        rdf=f"{OUT}/{{system}}/classical/{{mapping}}/rdf_runs.csv",
        errors=f"{OUT}/{{system}}/classical/{{mapping}}/rdf_errors.csv",
    params:
        model="classical",
    log:
        f"{LOGS}/{{system}}/classical_summary_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/classical_summary_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/classical.yaml"
    script:
        "../scripts/model_summary.py"
