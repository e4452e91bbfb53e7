# Resilience measures per city and outcome, with bootstrap uncertainty (and the placebo shock years the model
# specs ask for); ranking, maps and trajectories.


def placebo_shocks():
    """(outcome, shock year) of every placebo spec: the resilience stage recomputes the counterfactual measures
    with every resilience year moved there."""
    real = config["resilience"]["shock_year"]
    pairs = {(s["outcome"], s["shock_year"]) for s in SPECS.values() if s["shock_year"] not in (None, real)}
    return [{"outcome": outcome, "shock_year": year} for outcome, year in sorted(pairs)]


def resilience_settings():
    """What the resilience rule computes with: resilience without its report keys and the shocks' descriptions."""
    settings = {k: v for k, v in config["resilience"].items() if k != "report"}
    return {**settings, "name": MAIN_SHOCK, "shocks": undocumented(settings.get("shocks", {}))}


RESILIENCE_SETTINGS = {
    "resilience": resilience_settings(),
    "placebo": placebo_shocks(),
    "years": config["years"],
    "seed": config["seed"],
}
# The measures are in a folder shared by the runs with the same analysis panel and settings (stage_folder).
RESILIENCE_DIR = stage_folder("resilience", QUALITY_DIR, RESILIENCE_SETTINGS)
RESILIENCE = {
    "resilience": f"{RESILIENCE_DIR}/resilience.parquet",
    "attrition": f"{RESILIENCE_DIR}/attrition_resilience.csv",
    "paths": f"{RESILIENCE_DIR}/resilience_paths.parquet",
    "placebo": f"{RESILIENCE_DIR}/resilience_placebo.parquet",
    "shocks": f"{RESILIENCE_DIR}/resilience_shocks.parquet",
    "shocks_attrition": f"{RESILIENCE_DIR}/attrition_shocks.csv",
    "gaps": f"{RESILIENCE_DIR}/resilience_gaps.parquet",
    "ranks": f"{RESILIENCE_DIR}/resilience_ranks.parquet",
    "sensitivity": f"{RESILIENCE_DIR}/resilience_weights.parquet",
    "screening": f"{RESILIENCE_DIR}/resilience_screening.parquet",
}


rule resilience:
    input:
        panel=ANALYSIS_PANEL,
        code=code("resilience"),
    output:
        **RESILIENCE,
    log:
        f"{RESILIENCE_DIR}/logs/resilience.log",
    benchmark:
        f"{RESILIENCE_DIR}/benchmarks/resilience.tsv"
    priority: PRIORITY["stage"]
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        **RESILIENCE_SETTINGS,
    script:
        entry("resilience")


# The outcome the resilience report and maps show; a shift-share measure is mapped for its own outcome.
REPORT_OUTCOME = report_outcome(config["resilience"])
MAP_OUTCOME = {
    m: config["resilience"]["shift_share"]["label"] if MEASURES[m].outcome == "shift_share" else REPORT_OUTCOME
    for m in config["resilience"]["measures"]
}


rule resilience_report:
    input:
        resilience=RESILIENCE["resilience"],
        shocks=RESILIENCE["shocks"],
        paths=RESILIENCE["paths"],
        ranks=RESILIENCE["ranks"],
        sensitivity=RESILIENCE["sensitivity"],
        screening=RESILIENCE["screening"],
        cities=f"{DATA}/cities_map.parquet",
        code=code("resilience_report"),
    output:
        ranking=f"{RUN}/tables/resilience_ranking.csv",
        ranking_md=f"{RUN}/tables/resilience_extremes.md",
        ranking_other=[f"{RUN}/tables/resilience_extremes.{suffix}" for suffix in ("tex", "html", "csv")],
        trajectories=report(
            f"{RUN}/figures/resilience_trajectories.png",
            caption="../report/trajectories.rst",
            category="Resilience",
        ),
        trajectories_pdf=f"{RUN}/figures/resilience_trajectories.pdf",
        weights_md=f"{RUN}/tables/resilience_weights.md",
        weights_other=[f"{RUN}/tables/resilience_weights.{suffix}" for suffix in ("tex", "html", "csv")],
        screening_md=f"{RUN}/tables/resilience_screening.md",
        screening_other=[f"{RUN}/tables/resilience_screening.{suffix}" for suffix in ("tex", "html", "csv")],
        rank_intervals=report(
            f"{RUN}/figures/resilience_rank_intervals.png",
            caption="../report/rank_intervals.rst",
            category="Resilience",
        ),
        rank_intervals_pdf=f"{RUN}/figures/resilience_rank_intervals.pdf",
        weights_figure=report(
            f"{RUN}/figures/resilience_weights.png",
            caption="../report/resilience_weights.rst",
            category="Resilience",
        ),
        weights_figure_pdf=f"{RUN}/figures/resilience_weights.pdf",
    log:
        f"{RUN}/logs/resilience_report.log",
    benchmark:
        f"{RUN}/benchmarks/resilience_report.tsv"
    priority: PRIORITY["summary"]
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        resilience=pick(
            config["resilience"], "outcomes", "measures", "shock_year", "counterfactual", "shift_share", "report"
        ),
        headline_measure=HEADLINE,
        outcome=REPORT_OUTCOME,
        main_shock=MAIN_SHOCK,
        top_share=config["resilience"]["profile"]["top_share"],
        extremes=[m for m in dict.fromkeys([HEADLINE, *MODELS["measures"]]) if m in config["resilience"]["measures"]],
        city_names=city_names(labels=False),
        demo=DEMO,
    script:
        entry("resilience_report")


# The maps of the resilience measures, apart from the report's tables and charts: an edit of how cities are named
# redraws them and nothing else of the resilience report. One job draws them all: each map takes ≈ 0.5 s, and in one
# process the cities' outlines are turned into paths once (render.geometry_path); a job per map took 1.0 s a map.
rule resilience_maps:
    input:
        resilience=RESILIENCE["resilience"],
        cities=f"{DATA}/cities_map.parquet",
        code=code("resilience_maps"),
    output:
        maps=[
            report(
                f"{RUN}/figures/resilience_{measure}.png",
                caption="../report/resilience_map.rst",
                category="Resilience",
            )
            for measure in MAP_OUTCOME
        ],
        pdfs=[f"{RUN}/figures/resilience_{measure}.pdf" for measure in MAP_OUTCOME],
    log:
        f"{RUN}/logs/resilience_maps.log",
    benchmark:
        f"{RUN}/benchmarks/resilience_maps.tsv"
    priority: PRIORITY["summary"]
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        outcomes=MAP_OUTCOME,
        shock_year=config["resilience"]["shock_year"],
        city_names=city_names(),
        demo=DEMO,
    script:
        entry("resilience_maps")
