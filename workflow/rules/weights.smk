# Spatial weights (raw long table + summary) and Moran's I of resilience and centralities.


# One job builds every matrix and one job computes every Moran's I: each is a few seconds of arithmetic after
# seconds of imports, so one process per matrix cost more than the work (issue 18). The matrices are in a folder
# shared by the runs with the same panel and weights settings (stage_folder), as is Moran's I.
WEIGHTS_DIR = stage_folder("weights", DATA, config["weights"])


def weights_file(name):
    return f"{WEIGHTS_DIR}/{name}.parquet"


rule weights:
    input:
        cities=f"{DATA}/cities.parquet",
        panel=f"{DATA}/panel.parquet",
        code=code("weights"),
    output:
        weights=[weights_file(name) for name in WEIGHTS],
        summary=[f"{WEIGHTS_DIR}/{name}.summary.json" for name in WEIGHTS],
    log:
        f"{WEIGHTS_DIR}/logs/weights.log",
    benchmark:
        f"{WEIGHTS_DIR}/benchmarks/weights.tsv"
    priority: PRIORITY["stage"]
    threads: 1
    resources:
        mem_mb=1500,
        runtime=20,
    params:
        weights=config["weights"],
    script:
        entry("weights")


MORAN_SETTINGS = {
    "weights": {name: weights_in_sample(name) for name in WEIGHTS},
    "models": pick(MODELS, "outcome", "centrality_year", "centralities"),
    "permutations": config.get("moran", {}).get("permutations", 999),
    "seed": config["seed"],
}
MORAN_DIR = stage_folder("moran", WEIGHTS_DIR, RESILIENCE_DIR, CENTRALITY_DIRS[MODEL_NET], MORAN_SETTINGS)


rule moran:
    input:
        weights=[weights_file(name) for name in WEIGHTS],
        resilience=RESILIENCE["resilience"],
        centrality=centrality_file(MODEL_NET),
        cities=f"{DATA}/cities.parquet",
        code=code("moran"),
    output:
        moran=[f"{MORAN_DIR}/{name}.moran.csv" for name in WEIGHTS],
    log:
        f"{MORAN_DIR}/logs/moran.log",
    benchmark:
        f"{MORAN_DIR}/benchmarks/moran.tsv"
    priority: PRIORITY["model"]
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        **MORAN_SETTINGS,
    script:
        entry("moran")
