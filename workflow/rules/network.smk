# Networks (edge lists per year), their centralities and diagnostics, and the cross-network comparison. Each
# network and each network's centralities have a folder shared by the runs with the same settings (stage_folder).
from scripts.retrieve import source_files


def network_settings(net):
    """The network's configuration as the network rule reads it (enabled decides only whether it exists)."""
    return {k: v for k, v in config["network"][net].items() if k != "enabled"}


def network_files(wildcards):
    """Files a network reads directly: flows, its source's matrices; edges, the user's edge list; a distance file."""
    spec = config["network"][wildcards.net]
    files = [spec["path"]] if spec["kind"] == "edges" else []
    if spec["kind"] == "flows":
        files += [str(f.local_path(RAW)) for f in source_files(config, spec["source"])]
    if spec.get("distance_file"):
        files.append(spec["distance_file"]["path"])
    return files


def centrality_settings(net):
    """The keys of a network its centralities read: its kind and direction (is_directed) and tie length."""
    return pick(config["network"][net], "kind", "directed", "weight_to_distance")


NETWORK_DIRS = {net: stage_folder(f"network/{net}", DATA, network_settings(net), CROSSWALKS) for net in NETWORKS}
CENTRALITY_DIRS = {
    net: stage_folder(f"centrality/{net}", NETWORK_DIRS[net], centrality_settings(net), config.get("centrality", {}))
    for net in NETWORKS
}
NETWORK_FOLDER = f"{SHARED}/network/{{net}}/{{key}}"
CENTRALITY_FOLDER = f"{SHARED}/centrality/{{net}}/{{key}}"


def edges_file(net):
    return f"{NETWORK_DIRS[net]}/edges.parquet"


def centrality_file(net):
    return f"{CENTRALITY_DIRS[net]}/centrality.parquet"


def diagnostics_file(net):
    return f"{CENTRALITY_DIRS[net]}/diagnostics.csv"


rule network:
    input:
        panel=f"{DATA}/panel.parquet",
        cities=f"{DATA}/cities.parquet",
        crosswalk=CROSSWALKS,
        files=network_files,
        code=code("network"),
    output:
        edges=f"{NETWORK_FOLDER}/edges.parquet",
        attrition=f"{NETWORK_FOLDER}/attrition.csv",
    log:
        f"{NETWORK_FOLDER}/logs/network.log",
    benchmark:
        f"{NETWORK_FOLDER}/benchmarks/network.tsv"
    priority: PRIORITY["stage"]
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        network=lambda wildcards: network_settings(wildcards.net),
    script:
        entry("network")


rule centrality:
    input:
        edges=lambda wildcards: edges_file(wildcards.net),
        code=code("centrality"),
    output:
        centrality=f"{CENTRALITY_FOLDER}/centrality.parquet",
        diagnostics=f"{CENTRALITY_FOLDER}/diagnostics.csv",
    log:
        f"{CENTRALITY_FOLDER}/logs/centrality.log",
    benchmark:
        f"{CENTRALITY_FOLDER}/benchmarks/centrality.tsv"
    priority: PRIORITY["stage"]
    threads: 4 if config.get("centrality", {}).get("engine") == "networkit" else 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        network=lambda wildcards: centrality_settings(wildcards.net),
        centrality=config.get("centrality", {}),
    script:
        entry("centrality")


rule network_report:
    input:
        centrality=[centrality_file(net) for net in NETWORKS],
        diagnostics=[diagnostics_file(net) for net in NETWORKS],
        edges=[edges_file(net) for net in NETWORKS],
        cities=f"{DATA}/cities_map.parquet",
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
    priority: PRIORITY["summary"]
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
