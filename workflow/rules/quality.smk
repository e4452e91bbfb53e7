# Data-quality flags on the panel (jumps, territorial breaks, gaps, duplicates): table, summary, map.
rule quality:
    input:
        panel=f"{RUN}/panel.parquet",
        cities=f"{RUN}/cities.parquet",
        crosswalk="data/crosswalk/city_codes.csv",
        code=HELPERS,
    output:
        flags=f"{RUN}/quality_flags.csv",
        summary=f"{RUN}/quality_summary.json",
        counts=f"{RUN}/tables/quality_flags.md",
        counts_other=[f"{RUN}/tables/quality_flags.{suffix}" for suffix in ("tex", "html", "csv")],
        window=f"{RUN}/tables/quality_window.md",
        window_other=[f"{RUN}/tables/quality_window.{suffix}" for suffix in ("tex", "html", "csv")],
        map=report(f"{RUN}/figures/quality_flags.png", caption="../report/quality.rst", category="Data quality"),
        map_pdf=f"{RUN}/figures/quality_flags.pdf",
    params:
        settings=[config_slice("quality", "variables", "derived", "demo", "resilience"), models_core()],
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    log:
        f"{RUN}/logs/quality.log",
    benchmark:
        f"{RUN}/benchmarks/quality.tsv"
    script:
        "../../scripts/quality.py"
