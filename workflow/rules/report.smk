# Regression table (Markdown, LaTeX, CSV, HTML), map of the headline measure and its scatter on the centralities.


rule report:
    input:
        models=[f"{RUN}/models/{name}.json" for name in TABLE_MODELS],
        design=f"{RUN}/models/design.parquet",
        resilience=RESILIENCE["resilience"],
        cities=f"{DATA}/cities_map.parquet",
        code=code("report"),
    output:
        markdown=f"{RUN}/tables/regression.md",
        latex=f"{RUN}/tables/regression.tex",
        csv=f"{RUN}/tables/regression.csv",
        html=report(f"{RUN}/tables/regression.html", caption="../report/regression.rst", category="Tables"),
        map=report(f"{RUN}/figures/map_{HEADLINE}.png", caption="../report/map_drop.rst", category="Resilience"),
        map_pdf=f"{RUN}/figures/map_{HEADLINE}.pdf",
        scatter=report(
            f"{RUN}/figures/scatter_centrality_{HEADLINE}.png",
            caption="../report/scatter.rst",
            category="Models",
        ),
        scatter_pdf=f"{RUN}/figures/scatter_centrality_{HEADLINE}.pdf",
    log:
        f"{RUN}/logs/report.log",
    benchmark:
        f"{RUN}/benchmarks/report.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        main_table=TABLE_MODELS,
        outcome=MODELS["outcome"],
        centralities=MODELS["centralities"],
        headline_measure=HEADLINE,
        city_names=city_names(),
        demo=DEMO,
    script:
        entry("report")
