# Figures drawn from result files: coefficients, specification curve, event study; maps of cities; marginal effects.
EVENT_STUDY = next((name for name, spec in SPECS.items() if spec["estimator"] == "event_study"), None)
ALIASES = list(MODELS["centralities"])
# The event-study figure is drawn when a spec fits an event study.
EVENT_INPUT = {"event_study": f"{RUN}/models/{EVENT_STUDY}.json"} if EVENT_STUDY else {}
EVENT_OUTPUT = (
    {
        "event_study": report(
            f"{RUN}/figures/event_study.png",
            caption="../report/event_study.rst",
            category="Models",
        )
    }
    if EVENT_STUDY
    else {}
)


rule figures:
    input:
        **EVENT_INPUT,
        table_models=[f"{RUN}/models/{name}.json" for name in TABLE_MODELS],
        spec_curve=f"{RUN}/tables/spec_curve.csv",
        code=code("figures"),
    output:
        **EVENT_OUTPUT,
        coefficients=report(
            f"{RUN}/figures/coefficients.png",
            caption="../report/coefficients.rst",
            category="Models",
        ),
        spec_curve=report(f"{RUN}/figures/spec_curve.png", caption="../report/spec_curve.rst", category="Models"),
        pdfs=[
            f"{RUN}/figures/{stem}.pdf"
            for stem in ("coefficients", "spec_curve", *(["event_study"] if EVENT_STUDY else []))
        ],
    log:
        f"{RUN}/logs/figures.log",
    benchmark:
        f"{RUN}/benchmarks/figures.tsv"
    priority: PRIORITY["summary"]
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        main_table=TABLE_MODELS,
        models=pick(MODELS, "centrality_year", "centralities"),
        demo=DEMO,
    script:
        entry("figures")


# The figures of cities, from the design table: maps of the centralities, of the headline measure and of its LISA
# clusters, and the headline's scatter on the centralities. Apart from the model figures, so that a model edit does
# not redraw them and an edit of how cities are named does not redraw the model figures.
rule maps:
    input:
        design=f"{RUN}/models/design.parquet",
        resilience=RESILIENCE["resilience"],
        weights=weights_file(MODELS["spatial"]["weights"]),
        cities=f"{DATA}/cities_map.parquet",
        code=code("maps"),
    output:
        lisa=report(f"{RUN}/figures/lisa_{HEADLINE}.png", caption="../report/lisa.rst", category="Resilience"),
        centrality_maps=[
            report(
                f"{RUN}/figures/map_{alias}.png",
                caption="../report/centrality_map.rst",
                category="Networks",
            )
            for alias in ALIASES
        ],
        map=report(f"{RUN}/figures/map_{HEADLINE}.png", caption="../report/map_drop.rst", category="Resilience"),
        scatter=report(
            f"{RUN}/figures/scatter_centrality_{HEADLINE}.png",
            caption="../report/scatter.rst",
            category="Models",
        ),
        pdfs=[
            f"{RUN}/figures/{stem}.pdf"
            for stem in (
                f"lisa_{HEADLINE}",
                *(f"map_{a}" for a in ALIASES),
                f"map_{HEADLINE}",
                f"scatter_centrality_{HEADLINE}",
            )
        ],
    log:
        f"{RUN}/logs/maps.log",
    benchmark:
        f"{RUN}/benchmarks/maps.tsv"
    priority: PRIORITY["summary"]
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        models=pick(MODELS, "outcome", "network", "centrality_year", "centralities"),
        weights_name=MODELS["spatial"]["weights"],
        weights=weights_in_sample(MODELS["spatial"]["weights"]),
        headline_measure=HEADLINE,
        shock_year=config["resilience"]["shock_year"],
        city_names=city_names(),
        seed=config["seed"],
        demo=DEMO,
    script:
        entry("maps")


# Specs with a moderator, by moderator: OLS (cross-section) and panel_fe specs, whose results carry marginal effects.
MODERATED = {"cross_section": {}, "panel": {}}
for name, spec in SPECS.items():
    if spec["estimator"] in ("ols", "panel_fe") and spec["moderator"] != "none":
        MODERATED[spec["family"]].setdefault(spec["moderator"], []).append(name)


def moderator_label(moderator):
    """A moderator as the figures' x axis names it: variable or network measure, and year."""
    entry = MODELS["moderators"][moderator]
    what = entry.get("variable") or f"{entry['measure']} in {entry['network']}"
    transform = "" if entry["transform"] == "none" else f"{entry['transform']} of "
    return f"{moderator}: {transform}{what}, {entry['year']}"


MODERATED_FIGURES = [
    f"{RUN}/figures/marginal_effects_{moderator}{suffix}"
    for family, suffix in (("cross_section", ""), ("panel", "_panel"))
    for moderator in MODERATED[family]
]


if MODERATED_FIGURES:

    rule marginal_effects:
        input:
            models=[
                f"{RUN}/models/{name}.json"
                for family in MODERATED.values()
                for names in family.values()
                for name in names
            ],
            code=code("marginal_effects"),
        output:
            table=f"{RUN}/tables/marginal_effects.md",
            table_other=[f"{RUN}/tables/marginal_effects.{suffix}" for suffix in ("tex", "html", "csv")],
            figures=[
                report(f"{stem}.png", caption="../report/marginal_effects.rst", category="Models")
                for stem in MODERATED_FIGURES
            ],
            pdfs=[f"{stem}.pdf" for stem in MODERATED_FIGURES],
        log:
            f"{RUN}/logs/marginal_effects.log",
        benchmark:
            f"{RUN}/benchmarks/marginal_effects.tsv"
        priority: PRIORITY["summary"]
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        params:
            cross_section=MODERATED["cross_section"],
            panel=MODERATED["panel"],
            moderator_labels={m: moderator_label(m) for family in MODERATED.values() for m in family},
            aliases=ALIASES,
            main_shock=config["resilience"]["name"],
            demo=DEMO,
        script:
            entry("marginal_effects")
