# Tables rendered from result files: impacts, descriptives, centrality correlations, attrition.
def table_files(stem):
    """The four renderings of one table."""
    return [f"{RUN}/tables/{stem}.{suffix}" for suffix in ("md", "tex", "html", "csv")]


IMPACT_MODELS = [name for name, spec in SPECS.items() if spec["estimator"] in ("sar", "sdm", "gm_lag", "panel_sar")
                 and spec["group"] != "grid"]


rule tables:
    input:
        impact_models=[f"{RUN}/models/{name}.json" for name in IMPACT_MODELS],
        design=f"{RUN}/models/design.parquet",
        correlation=f"{RUN}/tables/centrality_correlation.csv",
        attrition=f"{RUN}/attrition.csv",
        attrition_resilience=f"{RUN}/attrition_resilience.csv",
        code=HELPERS,
    output:
        impacts=f"{RUN}/tables/impacts.md",
        impacts_html=report(f"{RUN}/tables/impacts.html", caption="../report/impacts.rst", category="Tables"),
        impacts_other=[table_files("impacts")[i] for i in (1, 3)],
        descriptives=f"{RUN}/tables/descriptives.md",
        descriptives_html=report(f"{RUN}/tables/descriptives.html", caption="../report/descriptives.rst",
                                 category="Tables"),
        descriptives_other=[table_files("descriptives")[i] for i in (1, 3)],
        correlation=f"{RUN}/tables/centrality_correlation_matrix.md",
        correlation_other=table_files("centrality_correlation_matrix")[1:],
        attrition=f"{RUN}/tables/attrition_summary.md",
        attrition_html=report(f"{RUN}/tables/attrition_summary.html", caption="../report/attrition.rst",
                              category="Tables"),
        attrition_other=[table_files("attrition_summary")[i] for i in (1, 3)],
    params:
        settings=[models_core(), config_slice("demo")],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    log:
        f"{RUN}/logs/tables.log",
    benchmark:
        f"{RUN}/benchmarks/tables.tsv"
    script:
        "../../scripts/tables.py"
