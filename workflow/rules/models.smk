# Design table for figures, and one job per concrete model spec (scripts/specs.py expands models.specs).
rule design:
    input:
        resilience=f"{RUN}/resilience.parquet",
        centrality=f"{RUN}/centrality/{MODEL_NET}.parquet",
        panel=f"{RUN}/panel.parquet",
    output:
        design=f"{RUN}/models/design.parquet",
    params:
        settings=models_core(),
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
    if spec["family"] == "spatial":
        inputs["weights"] = f"{RUN}/weights/{spec['weights']}.parquet"
    return inputs


rule model:
    input:
        unpack(spec_inputs),
        resilience=f"{RUN}/resilience.parquet",
        panel=f"{RUN}/panel.parquet",
        cities=f"{RUN}/cities.parquet",
    output:
        model=f"{RUN}/models/{{spec}}.json",
    params:
        settings=lambda wildcards: [SPECS[wildcards.spec], config["seed"], config["weights"]],
    log:
        f"{RUN}/logs/models/{{spec}}.log",
    benchmark:
        f"{RUN}/benchmarks/models/{{spec}}.tsv"
    script:
        "../../scripts/models.py"
