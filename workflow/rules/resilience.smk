# Resilience measures per city.
rule resilience:
    input:
        panel=f"{RUN}/panel.parquet",
    output:
        resilience=f"{RUN}/resilience.parquet",
    log:
        f"{RUN}/logs/resilience.log",
    benchmark:
        f"{RUN}/benchmarks/resilience.tsv"
    script:
        "../../scripts/resilience.py"
