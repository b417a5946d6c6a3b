# Provenance: what made this results folder (preset, resolved config, tool versions, seeds).


def all_seeds():
    seeds = {}
    for s in SYSTEMS:
        seeds[s] = {stage: seed_for(s, stage) for stage in ("insert", "equilibrate", "production")}
        for m in config["classical"].get(s, {}).get("mappings", []):
            n = config["classical"][s]["md"]["n_runs"]
            seeds[s][f"classical/{m}"] = [seed_for(s, m, "classical", str(r)) for r in range(n)]
    for s, v, m in mlp_models():
        # MD run k uses (md * 1000 + k) as its JAX PRNG seed (recorded per run in md/md.json)
        seeds[s][f"mlp/{v}/{m}"] = {"train": seed_for(s, m, v, "train"), "md": seed_for(s, m, v, "md")}
    return seeds


rule provenance:
    output:
        json=f"{OUT}/provenance.json",
    params:
        config=config,
        seeds=all_seeds(),
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
