# Spatial weights (raw long table + summary) and Moran's I of resilience and centralities.


# One job builds every matrix and one job computes every Moran's I: each is a few seconds of arithmetic after
# seconds of imports, so one process per matrix cost more than the work (issue 18).


rule weights:
    input:
        cities=f"{RUN}/cities.parquet",
        panel=f"{RUN}/panel.parquet",
        code=code("weights"),
    output:
        weights=expand(f"{RUN}/weights/{{w}}.parquet", w=WEIGHTS),
        summary=expand(f"{RUN}/weights/{{w}}.summary.json", w=WEIGHTS),
    log:
        f"{RUN}/logs/weights.log",
    benchmark:
        f"{RUN}/benchmarks/weights.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=20,
    params:
        weights=config["weights"],
    script:
        entry("weights")


rule moran:
    input:
        weights=expand(f"{RUN}/weights/{{w}}.parquet", w=WEIGHTS),
        resilience=f"{RUN}/resilience.parquet",
        centrality=f"{RUN}/centrality/{MODEL_NET}.parquet",
        cities=f"{RUN}/cities.parquet",
        code=code("moran"),
    output:
        moran=expand(f"{RUN}/weights/{{w}}.moran.csv", w=WEIGHTS),
    log:
        f"{RUN}/logs/moran.log",
    benchmark:
        f"{RUN}/benchmarks/moran.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        weights={name: weights_in_sample(name) for name in WEIGHTS},
        models=pick(MODELS, "outcome", "centrality_year", "centralities"),
        permutations=config.get("moran", {}).get("permutations", 999),
        seed=config["seed"],
    script:
        entry("moran")
