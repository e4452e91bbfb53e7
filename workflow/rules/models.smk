# Design table for figures, and the model specs (scripts/specs.py expands models.specs): one job per batch of
# models.batch_size specs of a family (imports are paid once per batch), or, with batch_size 0, one wildcard job
# per spec (for clusters). Either way every spec writes models/<spec>.json.
from scripts.specs import batch_settings, batch_sources, moderator_networks, spec_batches

MODERATORS = MODELS.get("moderators", {})
# The design table's moderators: those on switched-off networks (unused: scripts/config.py) are left out.
DESIGN_MODERATORS = {name: entry for name, entry in MODERATORS.items() if entry.get("network", MODEL_NET) in NETWORKS}


rule design:
    input:
        resilience=RESILIENCE["resilience"],
        centrality=centrality_file(MODEL_NET),
        moderator_networks=[centrality_file(net) for net in moderator_networks(DESIGN_MODERATORS)],
        panel=ANALYSIS_PANEL,
        code=code("design"),
    output:
        design=f"{RUN}/models/design.parquet",
    log:
        f"{RUN}/logs/design.log",
    benchmark:
        f"{RUN}/benchmarks/design.tsv"
    priority: PRIORITY["stage"]
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        models={
            **pick(MODELS, "outcome", "centrality_year", "centralities", "controls"),
            "moderators": DESIGN_MODERATORS,
        },
        moderator_networks=moderator_networks(DESIGN_MODERATORS),
    script:
        entry("design")


MODEL_INPUTS = {
    "resilience": RESILIENCE["resilience"],
    "placebo": RESILIENCE["placebo"],
    "shocks": RESILIENCE["shocks"],
    "panel": ANALYSIS_PANEL,
    "cities": f"{DATA}/cities.parquet",
    "flags": QUALITY_FLAGS,
}
BATCHES = spec_batches(SPECS, MODELS.get("batch_size", 0))


def batch_inputs(names):
    """The centrality and weights files of a batch of specs, in the order of batch_sources."""
    sources = batch_sources(names, SPECS, MODERATORS)
    return {
        "centrality": [centrality_file(net) for net in sources["networks"]],
        "weights": [weights_file(name) for name in sources["weights"]],
    }


for batch, names in BATCHES.items():

    rule:
        name:
            f"models_{batch}"
        input:
            **MODEL_INPUTS,
            **batch_inputs(names),
            code=code("models"),
        output:
            models=[f"{RUN}/models/{name}.json" for name in names],
        log:
            f"{RUN}/logs/models/{batch}.log",
        benchmark:
            f"{RUN}/benchmarks/models/{batch}.tsv"
        priority: PRIORITY["model"]
        threads: 1
        resources:
            mem_mb=2000,
            runtime=30,
        params:
            sources=batch_sources(names, SPECS, MODERATORS),
            settings=batch_settings(names, SPECS, config),
        script:
            entry("models")


if not BATCHES:

    rule model:
        input:
            **MODEL_INPUTS,
            centrality=lambda wildcards: batch_inputs([wildcards.spec])["centrality"],
            weights=lambda wildcards: batch_inputs([wildcards.spec])["weights"],
            code=code("models"),
        output:
            models=f"{RUN}/models/{{spec}}.json",
        log:
            f"{RUN}/logs/models/{{spec}}.log",
        benchmark:
            f"{RUN}/benchmarks/models/{{spec}}.tsv"
        priority: PRIORITY["model"]
        threads: 1
        resources:
            mem_mb=1500,
            runtime=15,
        params:
            sources=lambda wildcards: batch_sources([wildcards.spec], SPECS, MODERATORS),
            settings=lambda wildcards: batch_settings([wildcards.spec], SPECS, config),
        script:
            entry("models")


rule spec_curve:
    input:
        models=expand(f"{RUN}/models/{{spec}}.json", spec=SPECS),
        cities=f"{DATA}/cities.parquet",
        attrition_resilience=RESILIENCE["attrition"],
        attrition_shocks=RESILIENCE["shocks_attrition"],
        code=code("spec_curve"),
    output:
        table=f"{RUN}/tables/spec_curve.csv",
        attrition=f"{RUN}/tables/model_attrition.md",
        attrition_other=[f"{RUN}/tables/model_attrition.{suffix}" for suffix in ("tex", "html", "csv")],
    log:
        f"{RUN}/logs/spec_curve.log",
    benchmark:
        f"{RUN}/benchmarks/spec_curve.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        aliases=list(MODELS["centralities"]),
        demo=DEMO,
    script:
        entry("spec_curve")
