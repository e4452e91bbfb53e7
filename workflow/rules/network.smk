# Networks (edge lists per year), their centralities and diagnostics, and the cross-network comparison.
from scripts.retrieve import source_files


def network_spec(wildcards):
    """The network's configuration as the network rule reads it (enabled decides only whether it exists)."""
    return {k: v for k, v in config["network"][wildcards.net].items() if k != "enabled"}


def network_files(wildcards):
    """Files a network reads directly: flows, its source's matrices; edges, the user's edge list; a distance file."""
    spec = config["network"][wildcards.net]
    files = [spec["path"]] if spec["kind"] == "edges" else []
    if spec["kind"] == "flows":
        files += [str(f.local_path(RAW)) for f in source_files(config, spec["source"])]
    if spec.get("distance_file"):
        files.append(spec["distance_file"]["path"])
    return files


def centrality_network(wildcards):
    """The keys of a network its centralities read: its kind and direction (is_directed) and tie length."""
    return pick(config["network"][wildcards.net], "kind", "directed", "weight_to_distance")


rule network:
    input:
        panel=f"{RUN}/panel.parquet",
        cities=f"{RUN}/cities.parquet",
        crosswalk=CROSSWALKS,
        files=network_files,
        code=code("network"),
    output:
        edges=f"{RUN}/networks/{{net}}/edges.parquet",
        attrition=f"{RUN}/networks/{{net}}/attrition.csv",
    log:
        f"{RUN}/logs/network/{{net}}.log",
    benchmark:
        f"{RUN}/benchmarks/network/{{net}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        network=network_spec,
    script:
        entry("network")


rule centrality:
    input:
        edges=f"{RUN}/networks/{{net}}/edges.parquet",
        code=code("centrality"),
    output:
        centrality=f"{RUN}/centrality/{{net}}.parquet",
        diagnostics=f"{RUN}/networks/{{net}}/diagnostics.csv",
    log:
        f"{RUN}/logs/centrality/{{net}}.log",
    benchmark:
        f"{RUN}/benchmarks/centrality/{{net}}.tsv"
    threads: 4 if config.get("centrality", {}).get("engine") == "networkit" else 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        network=centrality_network,
        centrality=config.get("centrality", {}),
    script:
        entry("centrality")


rule network_report:
    input:
        centrality=expand(f"{RUN}/centrality/{{net}}.parquet", net=NETWORKS),
        diagnostics=expand(f"{RUN}/networks/{{net}}/diagnostics.csv", net=NETWORKS),
        edges=expand(f"{RUN}/networks/{{net}}/edges.parquet", net=NETWORKS),
        cities=f"{RUN}/cities.parquet",
        code=code("network_report"),
    output:
        diagnostics=f"{RUN}/tables/network_diagnostics.csv",
        correlation=f"{RUN}/tables/centrality_correlation.csv",
        heatmap=report(
            f"{RUN}/figures/centrality_correlation.png",
            caption="../report/network.rst",
            category="Networks",
        ),
        heatmap_pdf=f"{RUN}/figures/centrality_correlation.pdf",
        links=[
            report(f"{RUN}/figures/links_{net}.png", caption="../report/network.rst", category="Networks")
            for net in NETWORKS
        ],
        links_pdf=expand(f"{RUN}/figures/links_{{net}}.pdf", net=NETWORKS),
    log:
        f"{RUN}/logs/network_report.log",
    benchmark:
        f"{RUN}/benchmarks/network_report.tsv"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        networks=NETWORKS,
        centrality_year=MODELS["centrality_year"],
        centralities=MODELS["centralities"],
        top_links=config["report"].get("top_links", 150),
        demo=DEMO,
    script:
        entry("network_report")
