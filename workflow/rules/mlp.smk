# Machine-learned CG potentials: chemtrain force matching of mlip MACE/NequIP -> JAX-MD runs ->
# the shared analysis path. One training, one MD job (all runs vmapped) and one analysis job
# per (system, variant, mapping).


rule mlp_train:
    input:
        h5=rules.map_reference.output.h5,
    output:
        params=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/params.pkl",
        metrics=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/metrics.json",
    params:
        base=lambda w: mlp_cfg(w)["model"],
        variant=lambda w: mlp_cfg(w)["variants"][w.variant],
        train=lambda w: mlp_cfg(w)["train"],
        seed=lambda w: seed_for(w.system, w.mapping, w.variant, "train"),
        outdir=lambda w: f"{OUT}/{w.system}/mlp/{w.variant}/{w.mapping}",
    log:
        f"{LOGS}/{{system}}/mlp_train_{{variant}}_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/mlp_train_{{variant}}_{{mapping}}.tsv"
    threads: config["mlp_runtime"]["threads"]
    resources:
        # positions + forces (float32) and transient float64 copies: ~30 kB per frame of 400 beads
        mem_mb=lambda w: 4000 + int(0.03 * mlp_train_frames(w)),
        runtime=mlp_train_minutes,
        gpu=mlp_resources_gpu(),
    conda:
        "../../envs/mlp.yaml"
    script:
        "../scripts/mlp_train.py"


rule mlp_md:
    input:
        params=rules.mlp_train.output.params,
        h5=rules.map_reference.output.h5,
    output:
        traj=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/md/traj.h5",
        record=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/md/md.json",
    params:
        md=mlp_md_cfg,
        seed=lambda w: seed_for(w.system, w.mapping, w.variant, "md"),
        stability=lambda w: SYSTEMS[w.system]["stability"],   # a run stops once every chain has left it
    log:
        f"{LOGS}/{{system}}/mlp_md_{{variant}}_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/mlp_md_{{variant}}_{{mapping}}.tsv"
    threads: config["mlp_runtime"]["threads"]
    resources:
        mem_mb=lambda w: 4000 + 2 * mlp_cfg(w)["md"]["n_runs"] * int(mlp_md_cfg(w)["length_ps"]),
        # all runs in one vmapped job; pessimistic total throughput: 200 ns/day on a GPU (the paper:
        # 63-179 ns/day for one run), 2 ns/day on a CPU
        runtime=lambda w: 20 + int(1.5 * mlp_cfg(w)["md"]["n_runs"] * mlp_md_cfg(w)["length_ps"] / 1000
                                   / (200.0 if mlp_resources_gpu() else 2.0) * 1440
                                   * 0.002 / mlp_md_cfg(w)["dt_ps"]),
        gpu=mlp_resources_gpu(),
    conda:
        "../../envs/mlp.yaml"
    script:
        "../scripts/mlp_md.py"


rule mlp_analysis:
    input:
        traj=rules.mlp_md.output.traj,
        record=rules.mlp_md.output.record,
        template=rules.map_reference.output.h5,
        ref_rdf=rules.reference_distributions.output.rdf,
    output:
        json=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/summary.json",
        bonded=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/bonded_runs.csv",
        rdf=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/rdf_runs.csv",
        errors=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/rdf_errors.csv",
        nn=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/nn_runs.csv",
        permutation=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/permutation.csv",
        runs=directory(f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/runs"),
    params:
        analysis=config["analysis"],
        system=lambda w: analysis_definition(SYSTEMS[w.system]),
        model=lambda w: w.variant,
    log:
        f"{LOGS}/{{system}}/mlp_analysis_{{variant}}_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/mlp_analysis_{{variant}}_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda w: 10 + mlp_cfg(w)["md"]["n_runs"] * int(mlp_cfg(w)["md"]["length_ps"]) // 500,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/mlp_analysis.py"


rule reference_permutation:
    input:
        h5=rules.map_reference.output.h5,
    output:
        csv=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/permutation.csv",
        json=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/permutation.json",
    params:
        stride=config["analysis"]["frame_stride"],
    log:
        f"{LOGS}/{{system}}/reference_permutation_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/reference_permutation_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/reference_permutation.py"


rule mlp_ramachandran:
    input:
        traj=rules.mlp_md.output.traj,
        runs=rules.mlp_analysis.output.runs,
        template=rules.map_reference.output.h5,
        reference=f"{OUT}/{{system}}/analysis/reference/{{mapping}}/ramachandran.csv",
    output:
        csv=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/ramachandran.csv",
        json=f"{OUT}/{{system}}/mlp/{{variant}}/{{mapping}}/ramachandran.json",
    params:
        cfg=config["analysis"]["ramachandran"],
        temperature_K=lambda w: mlp_cfg(w)["md"]["temperature_K"],
        stride=config["analysis"]["frame_stride"],
    log:
        f"{LOGS}/{{system}}/mlp_ramachandran_{{variant}}_{{mapping}}.log",
    benchmark:
        f"{BENCH}/{{system}}/mlp_ramachandran_{{variant}}_{{mapping}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../scripts/mlp_ramachandran.py"
