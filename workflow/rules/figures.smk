# Figures drawn from result files: coefficients, specification curve, event study, LISA map, centrality maps.
EVENT_STUDY = next((name for name, spec in SPECS.items() if spec["estimator"] == "event_study"), None)


rule figures:
    input:
        table_models=[f"{RUN}/models/{name}.json" for name in TABLE_MODELS],
        spec_curve=f"{RUN}/tables/spec_curve.csv",
        event_study=f"{RUN}/models/{EVENT_STUDY}.json",
        design=f"{RUN}/models/design.parquet",
        weights=f"{RUN}/weights/{config['models']['spatial']['weights']}.parquet",
        cities=f"{RUN}/cities.parquet",
        code=HELPERS,
    output:
        coefficients=report(f"{RUN}/figures/coefficients.png", caption="../report/coefficients.rst", category="Models"),
        spec_curve=report(f"{RUN}/figures/spec_curve.png", caption="../report/spec_curve.rst", category="Models"),
        event_study=report(f"{RUN}/figures/event_study.png", caption="../report/event_study.rst", category="Models"),
        lisa=report(f"{RUN}/figures/lisa_drop.png", caption="../report/lisa.rst", category="Resilience"),
        centrality_maps=[report(f"{RUN}/figures/map_{alias}.png", caption="../report/centrality_map.rst",
                                category="Networks") for alias in config["models"]["centralities"]],
        pdfs=[f"{RUN}/figures/{stem}.pdf" for stem in ("coefficients", "spec_curve", "event_study", "lisa_drop",
              *(f"map_{alias}" for alias in config["models"]["centralities"]))],
    params:
        settings=[models_core(), config_slice("seed", "demo", "report"), config["weights"]],
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    log:
        f"{RUN}/logs/figures.log",
    benchmark:
        f"{RUN}/benchmarks/figures.tsv"
    script:
        "../../scripts/figures.py"
