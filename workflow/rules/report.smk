# Regression table (Markdown, LaTeX, CSV) and figures.
rule report:
    input:
        models=[f"{RUN}/models/{name}.json" for name in TABLE_MODELS],
        design=f"{RUN}/models/design.parquet",
        resilience=f"{RUN}/resilience.parquet",
        cities=f"{RUN}/cities.parquet",
    output:
        markdown=f"{RUN}/tables/regression.md",
        latex=f"{RUN}/tables/regression.tex",
        csv=f"{RUN}/tables/regression.csv",
        html=f"{RUN}/tables/regression.html",
        map=f"{RUN}/figures/map_drop.png",
        map_pdf=f"{RUN}/figures/map_drop.pdf",
        scatter=f"{RUN}/figures/scatter_centrality_drop.png",
        scatter_pdf=f"{RUN}/figures/scatter_centrality_drop.pdf",
    params:
        settings=[models_core(), config_slice("demo")],
    log:
        f"{RUN}/logs/report.log",
    benchmark:
        f"{RUN}/benchmarks/report.tsv"
    script:
        "../../scripts/report.py"
