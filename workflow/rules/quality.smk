# Data-quality flags on the panel (jumps, territorial breaks, gaps, duplicates) and the analysis panel that every
# later stage reads (flagged city-years of the outcomes masked when exclude_flagged), in a folder shared by the runs
# with the same settings (stage_folder); their tables and map in the run (quality_report).
from scripts.specs import flag_window

QUALITY_SETTINGS = {
    "thresholds": pick(config["quality"], "city_z", "province_z", "min_scale", "min_province_cities", "spike_factor"),
    "variables": [
        name
        for name in config["quality"].get("variables") or variable_names()
        if name not in config["quality"].get("not_levels", [])
    ],
    "exclude_flagged": config["quality"]["exclude_flagged"],
    "masked": list(dict.fromkeys([*config["resilience"]["outcomes"], MODELS["outcome"]])),
    "outcome": MODELS["outcome"],
    "window": flag_window(config["resilience"]),
}
QUALITY_DIR = stage_folder("quality", DATA, QUALITY_SETTINGS, CROSSWALKS)
ANALYSIS_PANEL = f"{QUALITY_DIR}/analysis_panel.parquet"
QUALITY_FLAGS = f"{QUALITY_DIR}/quality_flags.csv"


rule quality:
    input:
        panel=f"{DATA}/panel.parquet",
        crosswalk=CROSSWALKS,
        consistency=f"{DATA}/source_consistency.csv",
        code=code("quality"),
    output:
        flags=QUALITY_FLAGS,
        analysis_panel=ANALYSIS_PANEL,
        summary=f"{QUALITY_DIR}/quality_summary.json",
    log:
        f"{QUALITY_DIR}/logs/quality.log",
    benchmark:
        f"{QUALITY_DIR}/benchmarks/quality.tsv"
    priority: PRIORITY["stage"]
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        **QUALITY_SETTINGS,
    script:
        entry("quality")


rule quality_report:
    input:
        flags=QUALITY_FLAGS,
        # a function: the resilience stage's folder is defined after this file is included
        screening=lambda wildcards: RESILIENCE["screening"],
        cities=f"{DATA}/cities_map.parquet",
        code=code("quality_report"),
    output:
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
        f"{RUN}/logs/quality_report.log",
    benchmark:
        f"{RUN}/benchmarks/quality_report.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        thresholds=pick(config["quality"], "city_z", "province_z", "min_scale"),
        variables=QUALITY_SETTINGS["variables"],
        outcome=QUALITY_SETTINGS["outcome"],
        window=QUALITY_SETTINGS["window"],
        demo=DEMO,
    script:
        entry("quality_report")
