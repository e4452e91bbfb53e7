# Design table for figures, and the model specs (scripts/specs.py expands models.specs): one job per batch of
# models.batch_size specs of a family (imports are paid once per batch), or, with batch_size 0, one wildcard job
# per spec (for clusters). Either way every spec writes models/<spec>.json.
from scripts.specs import spec_batches, spec_input_paths

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


MODEL_INPUTS = {"resilience": f"{RUN}/resilience.parquet", "panel": f"{RUN}/panel.parquet",
                "cities": f"{RUN}/cities.parquet", "flags": f"{RUN}/quality_flags.csv"}
SPEC_PATHS = {name: spec_input_paths(spec, RUN) for name, spec in SPECS.items()}
BATCHES = spec_batches(SPECS, config["models"].get("batch_size", 0))


def batch_files(names):
    """Centrality and weights files of a batch of specs, each once, sorted."""
    return sorted({path for name in names for path in SPEC_PATHS[name].values()})


for batch, names in BATCHES.items():

    rule:
        name:
            f"models_{batch}"
        input:
            **MODEL_INPUTS,
            spec_files=batch_files(names),
            code=HELPERS,
        output:
            models=[f"{RUN}/models/{name}.json" for name in names],
        params:
            names=names,
            paths={name: SPEC_PATHS[name] for name in names},
            settings=[[SPECS[name] for name in names], config["seed"], config["weights"], config["quality"]],
        threads: 1
        resources:
            mem_mb=2000,
            runtime=30,
        log:
            f"{RUN}/logs/models/{batch}.log",
        benchmark:
            f"{RUN}/benchmarks/models/{batch}.tsv"
        script:
            "../../scripts/models.py"


if not BATCHES:

    rule model:
        input:
            **MODEL_INPUTS,
            spec_files=lambda wildcards: batch_files([wildcards.spec]),
            code=HELPERS,
        output:
            models=f"{RUN}/models/{{spec}}.json",
        params:
            names=lambda wildcards: [wildcards.spec],
            paths=lambda wildcards: {wildcards.spec: SPEC_PATHS[wildcards.spec]},
            settings=lambda wildcards: [SPECS[wildcards.spec], config["seed"], config["weights"], config["quality"]],
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
