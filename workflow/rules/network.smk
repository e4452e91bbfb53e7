# Gravity network per year and its DC, CC, BC.
rule network:
    input:
        panel=f"{RUN}/panel.parquet",
        cities=f"{RUN}/cities.parquet",
    output:
        edges=f"{RUN}/networks/{{net}}/edges.parquet",
        centrality=f"{RUN}/centrality/{{net}}.parquet",
    log:
        f"{RUN}/logs/network/{{net}}.log",
    benchmark:
        f"{RUN}/benchmarks/network/{{net}}.tsv"
    script:
        "../../scripts/network.py"
