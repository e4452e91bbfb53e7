"""Preflight: can every model spec be fitted with what the configuration builds? Checked before any job runs.

Each spec needs centralities of its network in the years it uses — the cross-section, the event study and a
``pre_shock`` panel in their ``centrality_year`` (a placebo in the year before its shock), a panel in every year
t − 1 of its growth years t —
the measures its centrality aliases name among those the network computes, and outcome data in the panel years.
Everything here is read from the configuration alone (no data), so it runs at parse time; what only the data can
tell (a city missing a year) is checked where the data are read. Every problem names the spec and the fix.
"""
from typing import Any

from scripts.specs import holds_centralities

BASE_MEASURES = {"degree", "strength", "closeness", "harmonic", "betweenness", "eigenvector", "pagerank", "clustering",
                 "top3_share"}
BINARY_MEASURES = {"closeness_binary", "harmonic_binary", "betweenness_binary"}
DIRECTED_MEASURES = {"degree_in", "degree_out", "strength_in", "strength_out"}


def network_years(spec: dict[str, Any]) -> set[int] | None:
    """Years a network is built for (gravity: ``year_range``; flows: ``year``); None when only its file knows
    (edge lists)."""
    if spec["kind"] == "gravity":
        return set(range(spec["year_range"]["start"], spec["year_range"]["end"] + 1))
    if spec["kind"] == "flows":
        return {spec["year"]}
    return None


def network_measures(spec: dict[str, Any]) -> set[str]:
    """Measures scripts.centrality.centralities computes on this network (see its module docstring): directed
    networks add in/out degree and strength."""
    directed = bool(spec.get("directed", spec["kind"] == "flows"))  # scripts.network.is_directed, restated: validation
    # runs at parse time and stays free of pandas (as scripts/registry.py does)
    return BASE_MEASURES | BINARY_MEASURES | (DIRECTED_MEASURES if directed else set())


def constant_measures(spec: dict[str, Any]) -> set[str]:
    """Measures that cannot vary across cities: a gravity network without a backbone ties every pair, so every degree
    is n − 1, every hop count 1 and every clustering coefficient 1 (degree, ``*_binary`` and clustering are constant;
    a regression on them is singular)."""
    complete = spec["kind"] == "gravity" and spec.get("backbone", {}).get("method", "none") == "none"
    constant = BINARY_MEASURES | {"degree", "degree_in", "degree_out", "clustering"}
    return constant & network_measures(spec) if complete else set()


def reads_lagged_centralities(spec: dict[str, Any]) -> bool:
    """A panel spec reading C_{t−1} in every growth year (not the event study or ``panel_centralities: pre_shock``,
    which hold the centralities at the spec's centrality year)."""
    return spec["family"] in ("panel", "spatial_panel") and not holds_centralities(spec)


def centrality_years_needed(spec: dict[str, Any], models: dict[str, Any]) -> list[int]:
    """Years of the spec's network whose centralities the spec reads."""
    if reads_lagged_centralities(spec):
        years = models["panel"]["years"]
        return list(range(years["start"] - 1, years["end"]))
    if spec.get("shock_year") is not None:
        return [spec["shock_year"] - 1]
    return [spec["centrality_year"]]


def spans(years: list[int]) -> str:
    """``2019`` or ``2019–2021`` (the years as a range when consecutive)."""
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def spans_names(names: list[str], limit: int = 6) -> str:
    """Spec names for a message: all of them, or the first few and how many in all."""
    return ", ".join(names) if len(names) <= limit else f"{', '.join(names[:limit])}, … {len(names)} specs in all"


def spec_problems(spec: dict[str, Any], network: dict[str, Any], models: dict[str, Any]) -> list[str]:
    """What stops one spec on its network, each with the fix."""
    problems, net = [], spec["network"]
    available = network_years(network)
    missing = sorted(set(centrality_years_needed(spec, models)) - available) if available is not None else []
    if missing:
        fix = (f"end models.panel.years by {max(available) + 1}" if reads_lagged_centralities(spec)
               else "choose models.centrality_year (or the spec's centrality_year) in that range")
        problems.append(f"need centralities of network '{net}' in {spans(missing)} but the network is built for "
                        f"{spans(sorted(available))}; {fix} or extend network.{net}'s years")
    chosen = set(spec["all_centralities"].values())
    if chosen - network_measures(network):
        problems.append(f"network '{net}' does not compute {sorted(chosen - network_measures(network))} (it computes "
                        f"{sorted(network_measures(network))}); choose other measures in models.centralities or "
                        "another network")
    if chosen & constant_measures(network):
        problems.append(f"{sorted(chosen & constant_measures(network))} are constant on network '{net}' (a gravity "
                        "network without a backbone ties every pair); give it a backbone or choose weighted measures")
    return problems


def spec_feasibility_errors(config: dict[str, Any], specs: dict[str, dict[str, Any]]) -> list[str]:
    """Every problem once, naming the specs it stops, plus panel years outside the data (module docstring)."""
    models, first, last = config["models"], config["years"]["start"], config["years"]["end"]
    stopped: dict[str, list[str]] = {}  # problem → specs, in config order
    for name, spec in specs.items():
        if spec["network"] in config["network"]:  # an unknown network is reported by spec_errors
            for problem in spec_problems(spec, config["network"][spec["network"]], models):
                stopped.setdefault(problem, []).append(name)
    errors = [f"models/specs ({spans_names(names)}): {problem}" for problem, names in stopped.items()]
    years = models.get("panel", {}).get("years")
    if years and any("panel" in s["family"] for s in specs.values()) and not (
            first <= years["start"] - 1 and years["end"] <= last):
        errors.append(f"models/panel/years: growth years {years['start']}–{years['end']} need levels in "
                      f"{years['start'] - 1}–{years['end']}, outside the data's years {first}–{last}; keep them within "
                      f"{first + 1}–{last} or widen years")
    return errors
