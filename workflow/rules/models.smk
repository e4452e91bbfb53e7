# Design table for figures, and one job per concrete model spec (scripts/specs.py expands models.specs).
rule design:
    input:
        resilience=f"{RUN}/resilience.parquet",
        centrality=f"{RUN}/centrality/{MODEL_NET}.parquet",
        panel=f"{RUN}/panel.parquet",
        code=HELPERS,
    output:
        design=f"{RUN}/models/design.parquet",
    params:
        settings=models_core(),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    log:
        f"{RUN}/logs/design.log",
    benchmark:
        f"{RUN}/benchmarks/design.tsv"
    script:
        "../../scripts/design.py"


def spec_inputs(wildcards):
    """Centralities of the spec's network, and its weights when the spec is spatial."""
    spec = SPECS[wildcards.spec]
    inputs = {"centrality": f"{RUN}/centrality/{spec['network']}.parquet"}
    if spec["family"] in ("spatial", "spatial_panel"):
        inputs["weights"] = f"{RUN}/weights/{spec['weights']}.parquet"
    return inputs


rule model:
    input:
        unpack(spec_inputs),
        resilience=f"{RUN}/resilience.parquet",
        panel=f"{RUN}/panel.parquet",
        cities=f"{RUN}/cities.parquet",
        code=HELPERS,
    output:
        model=f"{RUN}/models/{{spec}}.json",
    params:
        settings=lambda wildcards: [SPECS[wildcards.spec], config["seed"], config["weights"]],
    threads: 1
    resources:
        mem_mb=1500,
        runtime=15,
    log:
        f"{RUN}/logs/models/{{spec}}.log",
    benchmark:
        f"{RUN}/benchmarks/models/{{spec}}.tsv"
    script:
        "../../scripts/models.py"


rule spec_curve:
    input:
        models=expand(f"{RUN}/models/{{spec}}.json", spec=SPECS),
        code=HELPERS,
    output:
        table=f"{RUN}/tables/spec_curve.csv",
    params:
        aliases=list(config["models"]["centralities"]),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    log:
        f"{RUN}/logs/spec_curve.log",
    benchmark:
        f"{RUN}/benchmarks/spec_curve.tsv"
    script:
        "../../scripts/spec_curve.py"
