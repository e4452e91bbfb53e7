# Spatial weights (raw long table + summary) and Moran's I of resilience and centralities.
rule weights:
    input:
        cities=f"{RUN}/cities.parquet",
        panel=f"{RUN}/panel.parquet",
        code=HELPERS,
    output:
        weights=f"{RUN}/weights/{{w}}.parquet",
        summary=f"{RUN}/weights/{{w}}.summary.json",
    params:
        settings=lambda wildcards: config["weights"],
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    log:
        f"{RUN}/logs/weights/{{w}}.log",
    benchmark:
        f"{RUN}/benchmarks/weights/{{w}}.tsv"
    script:
        "../../scripts/weights.py"


rule moran:
    input:
        weights=f"{RUN}/weights/{{w}}.parquet",
        resilience=f"{RUN}/resilience.parquet",
        centrality=f"{RUN}/centrality/{MODEL_NET}.parquet",
        cities=f"{RUN}/cities.parquet",
        code=HELPERS,
    output:
        moran=f"{RUN}/weights/{{w}}.moran.csv",
    params:
        settings=lambda wildcards: [config["weights"][wildcards.w], config_slice("seed", "moran"), models_core()],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        f"{RUN}/logs/moran/{{w}}.log",
    benchmark:
        f"{RUN}/benchmarks/moran/{{w}}.tsv"
    script:
        "../../scripts/moran.py"
