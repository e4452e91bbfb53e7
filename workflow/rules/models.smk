# Cross-section OLS and spatial lag models; one JSON per model.
rule models:
    input:
        resilience=f"{RUN}/resilience.parquet",
        centrality=f"{RUN}/centrality/{MODEL_NET}.parquet",
        panel=f"{RUN}/panel.parquet",
        cities=f"{RUN}/cities.parquet",
        weights=f"{RUN}/weights/{config['models']['spatial']['weights']}.parquet",
    output:
        design=f"{RUN}/models/design.parquet",
        models=[f"{RUN}/models/{name}.json" for name in MODEL_NAMES],
    params:
        model_names=MODEL_NAMES,
        settings=config_slice("models", "weights"),
    log:
        f"{RUN}/logs/models.log",
    benchmark:
        f"{RUN}/benchmarks/models.tsv"
    script:
        "../../scripts/models.py"
