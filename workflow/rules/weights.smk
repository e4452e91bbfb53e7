# Spatial weights (raw long table + summary) and Moran's I of resilience and centralities.


def weights_specs(wildcards):
    """The weights' configuration and that of the matrices it combines (nested: geographic and economic)."""
    specs, todo = {}, [wildcards.w]
    while todo:
        name = todo.pop()
        specs[name] = config["weights"][name]
        todo += [config["weights"][name][k] for k in ("geographic", "economic") if k in config["weights"][name]]
    return specs


rule weights:
    input:
        cities=f"{RUN}/cities.parquet",
        panel=f"{RUN}/panel.parquet",
        code=code("weights"),
    output:
        weights=f"{RUN}/weights/{{w}}.parquet",
        summary=f"{RUN}/weights/{{w}}.summary.json",
    log:
        f"{RUN}/logs/weights/{{w}}.log",
    benchmark:
        f"{RUN}/benchmarks/weights/{{w}}.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        weights=weights_specs,
    script:
        entry("weights")


rule moran:
    input:
        weights=f"{RUN}/weights/{{w}}.parquet",
        resilience=f"{RUN}/resilience.parquet",
        centrality=f"{RUN}/centrality/{MODEL_NET}.parquet",
        cities=f"{RUN}/cities.parquet",
        code=code("moran"),
    output:
        moran=f"{RUN}/weights/{{w}}.moran.csv",
    log:
        f"{RUN}/logs/moran/{{w}}.log",
    benchmark:
        f"{RUN}/benchmarks/moran/{{w}}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        weights=lambda wildcards: weights_in_sample(wildcards.w),
        models=pick(MODELS, "outcome", "centrality_year", "centralities"),
        permutations=config.get("moran", {}).get("permutations", 999),
        seed=config["seed"],
    script:
        entry("moran")
