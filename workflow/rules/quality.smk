# Data-quality flags on the panel (jumps, territorial breaks, gaps, duplicates): table, summary, map; and the
# analysis panel that every later stage reads (flagged city-years of the outcomes masked when exclude_flagged).
from scripts.specs import flag_window


rule quality:
    input:
        panel=f"{DATA}/panel.parquet",
        cities=f"{DATA}/cities.parquet",
        crosswalk=CROSSWALKS,
        consistency=f"{DATA}/source_consistency.csv",
        code=code("quality"),
    output:
        flags=f"{RUN}/quality_flags.csv",
        analysis_panel=f"{RUN}/analysis_panel.parquet",
        summary=f"{RUN}/quality_summary.json",
        counts=f"{RUN}/tables/quality_flags.md",
        counts_other=[f"{RUN}/tables/quality_flags.{suffix}" for suffix in ("tex", "html", "csv")],
        window=f"{RUN}/tables/quality_window.md",
        window_other=[f"{RUN}/tables/quality_window.{suffix}" for suffix in ("tex", "html", "csv")],
        map=report(
            f"{RUN}/figures/quality_flags.png",
            caption="../report/quality.rst",
            category="Data quality",
        ),
        map_pdf=f"{RUN}/figures/quality_flags.pdf",
    log:
        f"{RUN}/logs/quality.log",
    benchmark:
        f"{RUN}/benchmarks/quality.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        thresholds=pick(config["quality"], "city_z", "province_z", "min_scale", "min_province_cities", "spike_factor"),
        variables=[
            name
            for name in config["quality"].get("variables") or variable_names()
            if name not in config["quality"].get("not_levels", [])
        ],
        exclude_flagged=config["quality"]["exclude_flagged"],
        masked=list(dict.fromkeys([*config["resilience"]["outcomes"], MODELS["outcome"]])),
        outcome=MODELS["outcome"],
        window=flag_window(config["resilience"]),
        demo=DEMO,
    script:
        entry("quality")
