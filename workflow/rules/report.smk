# Regression table of the main specifications (Markdown, LaTeX, CSV, HTML).


rule report:
    input:
        models=[f"{RUN}/models/{name}.json" for name in TABLE_MODELS],
        code=code("report"),
    output:
        markdown=f"{RUN}/tables/regression.md",
        latex=f"{RUN}/tables/regression.tex",
        csv=f"{RUN}/tables/regression.csv",
        html=report(f"{RUN}/tables/regression.html", caption="../report/regression.rst", category="Tables"),
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
        demo=DEMO,
    script:
        entry("report")
