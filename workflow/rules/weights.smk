# Spatial weights of the geography (binary neighbours + summary).
rule weights:
    input:
        cities=f"{RUN}/cities.parquet",
    output:
        weights=f"{RUN}/weights/{{w}}.parquet",
        summary=f"{RUN}/weights/{{w}}.summary.json",
    log:
        f"{RUN}/logs/weights/{{w}}.log",
    benchmark:
        f"{RUN}/benchmarks/weights/{{w}}.tsv"
    script:
        "../../scripts/weights.py"
