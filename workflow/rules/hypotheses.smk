# The seed theory's hypotheses as named tests: evidence table (every format), estimates behind it, figure.


rule evidence:
    input:
        models=expand(f"{RUN}/models/{{spec}}.json", spec=SPECS),
        code=code("evidence"),
    output:
        markdown=f"{RUN}/tables/evidence.md",
        other=[f"{RUN}/tables/evidence.{suffix}" for suffix in ("tex", "html", "csv")],
        estimates=f"{RUN}/tables/evidence_estimates.csv",
        figure=report(f"{RUN}/figures/evidence.png", caption="../report/evidence.rst", category="Hypotheses"),
        figure_pdf=f"{RUN}/figures/evidence.pdf",
    log:
        f"{RUN}/logs/evidence.log",
    benchmark:
        f"{RUN}/benchmarks/evidence.tsv"
    priority: PRIORITY["summary"]
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        hypotheses=config["hypotheses"],
        aliases=MODELS["centralities"],
        moderators=sorted(MODELS.get("moderators", {})),
        main_shock=MAIN_SHOCK,
        demo=DEMO,
    script:
        entry("evidence")
