# Resilience measures per city and outcome, with bootstrap uncertainty; ranking, maps and trajectories.
rule resilience:
    input:
        panel=f"{RUN}/panel.parquet",
        flags=f"{RUN}/quality_flags.csv",
        code=HELPERS,
    output:
        resilience=f"{RUN}/resilience.parquet",
        attrition=f"{RUN}/attrition_resilience.csv",
        paths=f"{RUN}/resilience_paths.parquet",
    params:
        settings=config_slice("seed", "years", "resilience", "quality"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    log:
        f"{RUN}/logs/resilience.log",
    benchmark:
        f"{RUN}/benchmarks/resilience.tsv"
    script:
        "../../scripts/resilience.py"


rule resilience_report:
    input:
        resilience=f"{RUN}/resilience.parquet",
        paths=f"{RUN}/resilience_paths.parquet",
        cities=f"{RUN}/cities.parquet",
        code=HELPERS,
    output:
        ranking=f"{RUN}/tables/resilience_ranking.csv",
        ranking_md=f"{RUN}/tables/resilience_extremes.md",
        ranking_other=[f"{RUN}/tables/resilience_extremes.{suffix}" for suffix in ("tex", "html", "csv")],
        maps=[report(f"{RUN}/figures/resilience_{m}.png", caption="../report/resilience_map.rst",
                     category="Resilience") for m in config["resilience"]["measures"]],
        maps_pdf=expand(f"{RUN}/figures/resilience_{{measure}}.pdf", measure=config["resilience"]["measures"]),
        trajectories=report(f"{RUN}/figures/resilience_trajectories.png", caption="../report/trajectories.rst",
                            category="Resilience"),
        trajectories_pdf=f"{RUN}/figures/resilience_trajectories.pdf",
    params:
        measures=config["resilience"]["measures"],
        settings=[config_slice("resilience", "demo"), city_name_settings()],
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    log:
        f"{RUN}/logs/resilience_report.log",
    benchmark:
        f"{RUN}/benchmarks/resilience_report.tsv"
    script:
        "../../scripts/resilience_report.py"
