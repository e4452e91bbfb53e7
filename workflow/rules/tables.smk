# Tables rendered from result files: impacts, descriptives, centrality correlations, attrition.
from scripts.registry import estimators_with_impacts
from scripts.specs import varying_keys


def table_files(stem):
    """The four renderings of one table."""
    return [f"{RUN}/tables/{stem}.{suffix}" for suffix in ("md", "tex", "html", "csv")]


# The impacts table shows the default specs of the estimators with impacts; robustness grids (groups that vary
# the network or the weights) are summarised by the specification curve instead.
IMPACT_MODELS = [
    name
    for name, spec in SPECS.items()
    if spec["estimator"] in estimators_with_impacts()
    and not {"network", "weights"} & set(varying_keys(MODELS["specs"][spec["group"]]))
]


rule tables:
    input:
        impact_models=[f"{RUN}/models/{name}.json" for name in IMPACT_MODELS],
        design=f"{RUN}/models/design.parquet",
        correlation=f"{RUN}/tables/centrality_correlation.csv",
        attrition=f"{DATA}/attrition.csv",
        attrition_resilience=RESILIENCE["attrition"],
        code=code("tables"),
    output:
        impacts=f"{RUN}/tables/impacts.md",
        impacts_html=report(f"{RUN}/tables/impacts.html", caption="../report/impacts.rst", category="Tables"),
        impacts_other=[table_files("impacts")[i] for i in (1, 3)],
        descriptives=f"{RUN}/tables/descriptives.md",
        descriptives_html=report(
            f"{RUN}/tables/descriptives.html",
            caption="../report/descriptives.rst",
            category="Tables",
        ),
        descriptives_other=[table_files("descriptives")[i] for i in (1, 3)],
        correlation=f"{RUN}/tables/centrality_correlation_matrix.md",
        correlation_other=table_files("centrality_correlation_matrix")[1:],
        attrition=f"{RUN}/tables/attrition_summary.md",
        attrition_html=report(
            f"{RUN}/tables/attrition_summary.html",
            caption="../report/attrition.rst",
            category="Tables",
        ),
        attrition_other=[table_files("attrition_summary")[i] for i in (1, 3)],
    log:
        f"{RUN}/logs/tables.log",
    benchmark:
        f"{RUN}/benchmarks/tables.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        aliases=list(MODELS["centralities"]),
        demo=DEMO,
    script:
        entry("tables")
