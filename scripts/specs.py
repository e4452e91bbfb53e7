"""Model specifications: config ``models.specs`` expanded into named, concrete specs (one Snakemake job each).

Each group under ``models.specs`` may give a list for any of the expandable keys (EXPANDABLE:
estimator, measure, cov, centralities, network, weights, sample, moderator, shock_year, shock, centrality_year,
panel_centralities, conley_km, effects); the group expands into the cross product. The spec name is the group name
followed by the values of the keys that vary inside the group, e.g. ``baseline-drop``, ``spatial-sdm``;
``centralities: each`` adds one spec per centrality alias (``…-dc``); ``enabled: false`` switches a group off (an
overlay cannot delete it). Unset keys take the model defaults
(models.outcome, network, centrality_year, centralities, controls, standardize).
"""
import itertools
from collections.abc import Collection
from typing import Any

from scripts.common import InputError
from scripts.registry import ESTIMATORS

EXPANDABLE = ("estimator", "measure", "cov", "centralities", "network", "weights", "sample", "moderator", "shock_year",
              "shock", "centrality_year", "panel_centralities", "conley_km", "effects")
INFERENCE_KEYS = ("conley_km", "conley_kernel", "conley_lag", "wild_bootstrap")   # read by one cov each (inference_options)
# What re-selecting a weights matrix on an estimation sample reads (scripts.weights.sample_weights).
WEIGHTS_SAMPLE_KEYS = ("kind", "k", "island_policy")


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list) else [value]


def control_name(control: dict[str, Any]) -> str:
    """Column name of a control in the design, e.g. ``log_pop_grid_2019``."""
    prefix = "" if control["transform"] == "none" else f"{control['transform']}_"
    return f"{prefix}{control['variable']}_{control['year']}"


def holds_centralities(spec: dict[str, Any]) -> bool:
    """Whether a panel spec holds each city's centralities at its centrality year (the event study, the panel IV,
    and ``panel_centralities: pre_shock``) instead of reading them lagged, C_{t−1}."""
    return spec["estimator"] in ("event_study", "panel_iv") or spec.get("panel_centralities", "lagged") == "pre_shock"


def varying_keys(template: dict[str, Any]) -> list[str]:
    """The expandable keys a group gives as lists of more than one value (those its spec names carry)."""
    return [key for key in EXPANDABLE if isinstance(template.get(key), list) and len(template[key]) > 1]


def expand_group(group: str, template: dict[str, Any], models: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Concrete specs of one group, by name (a weights list is ignored, not multiplied, for non-spatial estimators)."""
    lists = {key: _as_list(template[key]) for key in EXPANDABLE if key in template}
    varying = [key for key, values in lists.items() if len(values) > 1]
    specs = {}
    for combo in itertools.product(*lists.values()):
        chosen = dict(zip(lists, combo))
        estimator = chosen.get("estimator", "ols")
        if estimator not in ESTIMATORS:
            raise InputError(f"models.specs.{group}: unknown estimator '{estimator}'; use one of {sorted(ESTIMATORS)}.")
        if not ESTIMATORS[estimator].uses_weights:
            chosen.pop("weights", None)
        family = ESTIMATORS[estimator].family
        base = {"group": group, "estimator": estimator, "family": family, "outcome": models["outcome"],
                "network": models["network"], "weights": models["spatial"]["weights"],
                "centrality_year": models["centrality_year"], "controls": models["controls"],
                "standardize": models["standardize"], "cov": ESTIMATORS[estimator].covariances[0], "centralities": "joint",
                "measure": models["measures"][0], "all_centralities": models["centralities"], "sample": "all",
                "moderator": "none", "shock_year": None, "shock": "none"}
        spec = inference_options({**base, **{k: v for k, v in template.items() if k not in EXPANDABLE}, **chosen})
        if "conley_lag" in template and "conley_lag" not in spec:
            raise InputError(f"models.specs.{group}: conley_lag is read only by panel_fe specs with cov: conley; "
                             "drop it or set estimator panel_fe and cov conley.")
        parts = [group, *(name_part(group, key, chosen[key], spec) for key in varying
                          if key in chosen and (key != "centralities" or chosen[key] != "each")
                          and not (key == "conley_km" and "cov" in varying))]   # then the cov part carries it
        if spec["centralities"] == "each":
            for alias in models["centralities"]:
                specs["-".join([*parts, alias])] = {**spec, "centralities": alias}
        elif specs.get("-".join(parts), spec) != spec:
            raise InputError(f"models.specs.{group}: two different specs are both named '{'-'.join(parts)}'.")
        else:   # the same spec again (a conley_km list beside a cov without it) is kept once
            specs["-".join(parts)] = spec
    return specs


def inference_options(spec: dict[str, Any]) -> dict[str, Any]:
    """The inference keys a spec's ``cov`` reads, with their defaults (Conley: 500 km, Bartlett, and for panels a
    2-year lag cutoff; wild bootstrap: 999 draws, Webb weights); specs with another ``cov`` carry none, so their
    identity does not depend on them."""
    defaults = {"conley": {"conley_km": 500, "conley_kernel": "bartlett",
                           **({"conley_lag": 2} if spec["family"] == "panel" else {})},
                "wild_cluster_province": {"wild_bootstrap": {"draws": 999, "weights": "webb"}}}.get(spec["cov"], {})
    options = {k: {**v, **spec.get(k, {})} if isinstance(v, dict) else spec.get(k, v) for k, v in defaults.items()}
    return {**{k: v for k, v in spec.items() if k not in INFERENCE_KEYS}, **options}


def name_part(group: str, key: str, value: Any, spec: dict[str, Any]) -> str:
    """A varying key's value in a spec name; a Conley covariance carries its cutoff, e.g. ``conley500km``."""
    if key == "conley_km" and spec["cov"] != "conley":
        raise InputError(f"models.specs.{group}: conley_km is read only by cov: conley (this spec has cov "
                         f"'{spec['cov']}'); drop the list or set cov: conley.")
    if key == "cov" and value == "conley" or key == "conley_km":
        return f"conley{spec['conley_km']:g}km"
    return str(value).replace(":", "_")


def expand_specs(models: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every concrete spec of the config, by name, in config order."""
    specs: dict[str, dict[str, Any]] = {}
    for group, template in models["specs"].items():
        if not template.get("enabled", True):
            continue
        for name, spec in expand_group(group, {k: v for k, v in template.items() if k != "enabled"}, models).items():
            if name in specs:
                raise InputError(f"models.specs: two specs are both named '{name}'; rename a group.")
            specs[name] = {**spec, "name": name}
    return specs


def spec_batches(specs: dict[str, dict[str, Any]], size: int) -> dict[str, list[str]]:
    """Specs grouped into batches of at most `size` per estimator family, in config order: one Snakemake job per
    batch (models.batch_size), named ``<family>_<k>``. size 0 keeps one job per spec (no batches)."""
    if size <= 0:
        return {}
    by_family: dict[str, list[str]] = {}
    for name, spec in specs.items():
        by_family.setdefault(spec["family"], []).append(name)
    return {f"{family}_{k // size + 1}": names[k:k + size]
            for family, names in by_family.items() for k in range(0, len(names), size)}


def moderator_networks(moderators: dict[str, dict[str, Any]], names: Collection[str] | None = None) -> list[str]:
    """The networks whose centralities the named moderators (default: all) read, sorted."""
    return sorted({m["network"] for name, m in moderators.items() if "network" in m and (names is None or name in names)})


def batch_sources(names: list[str], specs: dict[str, dict[str, Any]],
                  moderators: dict[str, dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """The networks whose centralities and the weights matrices a batch of specs reads, each once, sorted: the
    models rule's inputs list their files in this order. Networks of the specs, their instruments and their
    moderators (``models.moderators``)."""
    chosen = [specs[name] for name in names]
    return {"networks": sorted({s["network"] for s in chosen} | {s["instruments"]["network"] for s in chosen
                                                                 if ESTIMATORS[s["estimator"]].instrumented}
                               | set(moderator_networks(moderators or {}, {s["moderator"] for s in chosen}))),
            "weights": sorted({s["weights"] for s in chosen if ESTIMATORS[s["estimator"]].uses_weights})}


def flag_window(resilience: dict[str, Any]) -> list[int]:
    """Years whose flags on the models' outcome leave a city out of the ``sample: unflagged`` specs: from the
    pre-period's start to the recovery year."""
    return [resilience["pre_period"]["start"], resilience["recovery_year"]]


def batch_settings(names: list[str], specs: dict[str, dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    """Exactly the configuration a batch of specs is fitted with (the models rule's params): the specs, the seed,
    and only what these specs use — the sample-selection keys of their weights, the panel years, shock year and
    the named shocks with their own post-shock window (panel specs), the real shock year (placebo specs), their moderators, the size classes, the flag window."""
    chosen = [specs[name] for name in names]
    models, resilience = config["models"], config["resilience"]
    settings: dict[str, Any] = {"specs": chosen, "seed": config["seed"]}
    used_weights = sorted({s["weights"] for s in chosen if ESTIMATORS[s["estimator"]].uses_weights})
    if used_weights:
        settings["weights"] = {name: {k: config["weights"][name][k] for k in WEIGHTS_SAMPLE_KEYS
                                      if k in config["weights"][name]} for name in used_weights}
    if any(ESTIMATORS[s["estimator"]].is_panel for s in chosen):
        settings["panel"] = {"years": models["panel"]["years"], "balance": models["panel"].get("balance",
                                                                                              "drop_incomplete"),
                             "shocks": {name: resilience["shocks"][name]["shock_year"]
                                        for name in models["panel"].get("shocks", [])}}
    if any(ESTIMATORS[s["estimator"]].is_panel or s["shock_year"] is not None for s in chosen):
        settings["shock_year"] = resilience["shock_year"]
    moderators = sorted({s["moderator"] for s in chosen} - {"none"})
    if moderators:
        settings["moderators"] = {name: models["moderators"][name] for name in moderators}
    if any(s["sample"].startswith("size:") for s in chosen):
        settings["size_classes"] = models["size_classes"]
    if any(s["sample"] == "unflagged" for s in chosen):
        settings["flag_window"] = flag_window(resilience)
    return settings
