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
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        **RESILIENCE_SETTINGS,
    script:
        entry("resilience")


rule resilience_report:
    input:
        resilience=RESILIENCE["resilience"],
        paths=RESILIENCE["paths"],
        cities=f"{DATA}/cities_map.parquet",
        code=code("resilience_report"),
    output:
        ranking=f"{RUN}/tables/resilience_ranking.csv",
        ranking_md=f"{RUN}/tables/resilience_extremes.md",
        ranking_other=[f"{RUN}/tables/resilience_extremes.{suffix}" for suffix in ("tex", "html", "csv")],
        maps=[
            report(
                f"{RUN}/figures/resilience_{m}.png",
                caption="../report/resilience_map.rst",
                category="Resilience",
            )
            for m in config["resilience"]["measures"]
        ],
        maps_pdf=expand(f"{RUN}/figures/resilience_{{measure}}.pdf", measure=config["resilience"]["measures"]),
        trajectories=report(
            f"{RUN}/figures/resilience_trajectories.png",
            caption="../report/trajectories.rst",
            category="Resilience",
        ),
        trajectories_pdf=f"{RUN}/figures/resilience_trajectories.pdf",
    log:
        f"{RUN}/logs/resilience_report.log",
    benchmark:
        f"{RUN}/benchmarks/resilience_report.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        resilience=pick(
            config["resilience"], "outcomes", "measures", "shock_year", "counterfactual", "shift_share", "report"
        ),
        headline_measure=HEADLINE,
        extremes=[m for m in dict.fromkeys([HEADLINE, *MODELS["measures"]]) if m in config["resilience"]["measures"]],
        city_names=city_names(),
        demo=DEMO,
    script:
        entry("resilience_report")
