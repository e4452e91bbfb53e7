# Retrieval and panel: real sources (or the synthetic demo) → panel.parquet, cities.parquet, attrition.csv.
from scripts.retrieve import source_files

# Files pulled by URL are retrieve's outputs; users' own exports (path:) are only inputs, so Snakemake never
# deletes or touches them.
RAW_FILES = [str(f.local_path(RAW)) for f in source_files(config) if f.url] if not DEMO else []
USER_FILES = [f.path for f in source_files(config) if f.path] if not DEMO else []
PANEL_OUTPUT = {"panel": f"{RUN}/panel.parquet", "cities": f"{RUN}/cities.parquet", "attrition": f"{RUN}/attrition.csv"}

if DEMO:

    rule panel:
        input:
            code=HELPERS,
        output:
            **PANEL_OUTPUT,
            truth=f"{RUN}/demo_truth.json",
        params:
            settings=config_slice("seed", "years", "variables", "derived", "network", "models", "demo"),
        threads: 1
        resources:
            mem_mb=3000,
            runtime=15,
        log:
            f"{RUN}/logs/panel.log",
        benchmark:
            f"{RUN}/benchmarks/panel.tsv"
        script:
            "../../scripts/demo.py"

else:

    rule retrieve:
        input:
            USER_FILES,
        output:
            RAW_FILES,
            log_table=f"{RUN}/logs/retrieve_origins.tsv",
        params:
            raw_dir=RAW,
            allow_network=config.get("allow_network", True),
        threads: 1
        resources:
            mem_mb=500,
            runtime=30,
        log:
            f"{RUN}/logs/retrieve.log",
        benchmark:
            f"{RUN}/benchmarks/retrieve.tsv"
        script:
            "../../scripts/retrieve.py"

    rule panel:
        input:
            RAW_FILES,
            USER_FILES,
            crosswalk="data/crosswalk/city_codes.csv",
            code=HELPERS,
        output:
            **PANEL_OUTPUT,
        params:
            raw_dir=RAW,
            settings=config_slice("years", "geography", "sources", "variables", "price_index", "derived"),
        threads: 1
        resources:
            mem_mb=3000,
            runtime=15,
        log:
            f"{RUN}/logs/panel.log",
        benchmark:
            f"{RUN}/benchmarks/panel.tsv"
        script:
            "../../scripts/panel.py"
