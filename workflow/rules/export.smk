# Exports for Stata and R users (export/*.dta and *.parquet with a codebook) and the codebook of every table.
TABLE_CSVS = [f for f in every_output()[0] if f.startswith(f"{RUN}/tables/") and f.endswith(".csv")]
EXPORTED = ("panel", "design", "resilience")


rule export:
    input:
        panel=f"{DATA}/panel.parquet",
        design=f"{RUN}/models/design.parquet",
        resilience=RESILIENCE["resilience"],
        shocks=RESILIENCE["shocks"],
        tables=TABLE_CSVS,
        code=code("export"),
    output:
        stata=[f"{RUN}/export/{name}.dta" for name in EXPORTED],
        parquet=[f"{RUN}/export/{name}.parquet" for name in EXPORTED],
        codebook=f"{RUN}/export/codebook.csv",
        codebook_json=f"{RUN}/export/codebook.json",
        tables_codebook=f"{RUN}/tables/codebook.csv",
    log:
        f"{RUN}/logs/export.log",
    benchmark:
        f"{RUN}/benchmarks/export.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        variables=config["variables"],
        derived=config.get("derived", {}),
        models=pick(MODELS, "outcome", "network", "centrality_year", "centralities", "controls", "moderators"),
        main_shock=MAIN_SHOCK,
    script:
        entry("export")
