# Retrieval and panel: real sources (or the synthetic demo) → panel.parquet, cities.parquet, attrition.csv, in a
# folder shared by every run with the same settings (DATA; stage_folder in the Snakefile).
from scripts.retrieve import source_files

if DEMO:
    PANEL_SETTINGS = {
        "seed": config["seed"],
        "years": config["years"],
        "variables": variable_names(),
        "demo": pick(config["demo"], "n_rows", "n_cols", "effects", "noise_sd", "moderation"),
        "resilience": {
            **pick(config["resilience"], "pre_period", "shock_year", "recovery_year"),
            "shocks": undocumented(config["resilience"].get("shocks", {})),
        },
        "models": {
            **pick(MODELS, "outcome", "network", "centrality_year", "centralities"),
            "moderators": {  # the planted moderator's entry only
                name: MODELS["moderators"][name]
                for name in [config["demo"].get("moderation", {}).get("moderator")]
                if name
            },
        },
        "network": {MODEL_NET: config["network"][MODEL_NET]},
        "centrality": config.get("centrality", {}),
        "consistency": undocumented(config.get("consistency", {})),
    }
    RETRIEVE_FILES = {}
else:
    PANEL_SETTINGS = {
        "years": config["years"],
        "geography": config["geography"],
        "sources": undocumented(config["sources"]),
        "variables": undocumented(config["variables"]),
        "price_index": config.get("price_index"),
        "derived": undocumented(config.get("derived", {})),
        "consistency": undocumented(config.get("consistency", {})),
    }
    RETRIEVE_FILES = {name: spec["files"] for name, spec in config["sources"].items()}
# Where the files come from (mirror, network) is left out of the key: retrieval verifies every file's SHA-256.
DATA = stage_folder("data", DEMO, PANEL_SETTINGS, RETRIEVE_FILES, CROSSWALKS)
RAW = f"{DATA}/raw"  # the verified copies of the raw files, which later stages read
# The copies of the files pulled by URL are retrieve's outputs (the cache data/raw is not: Snakemake never deletes
# it); users' own exports (path:) are only inputs, so Snakemake never deletes or touches them.
RAW_FILES = [str(f.local_path(RAW)) for f in source_files(config) if f.url] if not DEMO else []
USER_FILES = [f.path for f in source_files(config) if f.path] if not DEMO else []
PANEL_OUTPUT = {
    "panel": f"{DATA}/panel.parquet",
    "cities": f"{DATA}/cities.parquet",
    "map_cities": f"{DATA}/cities_map.parquet",  # the boundaries simplified for maps (scripts.panel.map_geometries)
    "attrition": f"{DATA}/attrition.csv",
    "consistency": f"{DATA}/source_consistency.csv",
}


if DEMO:

    rule panel:
        input:
            code=code("demo"),
        output:
            **PANEL_OUTPUT,
            truth=f"{DATA}/demo_truth.json",
        log:
            f"{DATA}/logs/panel.log",
        benchmark:
            f"{DATA}/benchmarks/panel.tsv"
        threads: 1
        resources:
            mem_mb=3000,
            runtime=15,
        params:
            **PANEL_SETTINGS,
        script:
            entry("demo")

else:

    rule retrieve:
        input:
            USER_FILES,
            code=code("retrieve"),
        output:
            RAW_FILES,
            log_table=f"{DATA}/logs/retrieve_origins.tsv",
        log:
            f"{DATA}/logs/retrieve.log",
        benchmark:
            f"{DATA}/benchmarks/retrieve.tsv"
        threads: 1
        resources:
            mem_mb=500,
            runtime=30,
        params:
            store=STORE,
            raw_dir=RAW,
            files=RETRIEVE_FILES,
            mirror=config.get("mirror"),
            allow_network=config.get("allow_network", True),
        script:
            entry("retrieve")

    rule panel:
        input:
            RAW_FILES,
            USER_FILES,
            crosswalk=CROSSWALKS,
            code=code("panel"),
        output:
            **PANEL_OUTPUT,
        log:
            f"{DATA}/logs/panel.log",
        benchmark:
            f"{DATA}/benchmarks/panel.tsv"
        threads: 1
        resources:
            mem_mb=3000,
            runtime=15,
        params:
            **PANEL_SETTINGS,
            raw_dir=RAW,
        script:
            entry("panel")
