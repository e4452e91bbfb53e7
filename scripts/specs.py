"""Model specifications: config ``models.specs`` expanded into named, concrete specs (one Snakemake job each).

Each group under ``models.specs`` may give a list for any of the expandable keys (estimator, measure, cov,
centralities, network, weights); the group expands into the cross product. The spec name is the group name
followed by the values of the keys that vary inside the group, e.g. ``baseline-drop``, ``spatial-sdm``;
``centralities: each`` adds one spec per centrality alias (``…-dc``); ``enabled: false`` switches a group off (an
overlay cannot delete it). Unset keys take the model defaults
(models.outcome, network, centrality_year, centralities, controls, standardize).
"""
import itertools
from typing import Any

from scripts.common import InputError

EXPANDABLE = ("estimator", "measure", "cov", "centralities", "network", "weights", "sample", "moderator", "shock_year")
FAMILY = {"ols": "cross_section", "sar": "spatial", "sem": "spatial", "sdm": "spatial", "gm_lag": "spatial",
          "gm_error": "spatial", "panel_fe": "panel", "event_study": "panel", "panel_sar": "spatial_panel",
          "panel_sem": "spatial_panel"}
DEFAULT_COV = {"cross_section": "HC1", "spatial": "ml", "panel": "cluster_city", "spatial_panel": "ml"}
USES_WEIGHTS = ("spatial", "spatial_panel")


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, list) else [value]


def expand_group(group: str, template: dict[str, Any], models: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Concrete specs of one group, by name (a weights list is ignored, not multiplied, for non-spatial estimators)."""
    lists = {key: _as_list(template[key]) for key in EXPANDABLE if key in template}
    varying = [key for key, values in lists.items() if len(values) > 1]
    specs = {}
    for combo in itertools.product(*lists.values()):
        chosen = dict(zip(lists, combo))
        if FAMILY.get(chosen.get("estimator", "ols")) not in USES_WEIGHTS:
            chosen.pop("weights", None)
        estimator = chosen.get("estimator", "ols")
        if estimator not in FAMILY:
            raise InputError(f"models.specs.{group}: unknown estimator '{estimator}'; use one of {sorted(FAMILY)}.")
        family = FAMILY[estimator]
        base = {"group": group, "estimator": estimator, "family": family, "outcome": models["outcome"],
                "network": models["network"], "weights": models["spatial"]["weights"],
                "centrality_year": models["centrality_year"], "controls": models["controls"],
                "standardize": models["standardize"], "cov": DEFAULT_COV[family], "centralities": "joint",
                "measure": models["measures"][0], "all_centralities": models["centralities"], "sample": "all",
                "moderator": "none", "shock_year": None}
        spec = {**base, **{k: v for k, v in template.items() if k not in EXPANDABLE}, **chosen}
        parts = [group, *(str(chosen[key]).replace(":", "_") for key in varying
                          if key in chosen and (key != "centralities" or chosen[key] != "each"))]
        if spec["centralities"] == "each":
            for alias in models["centralities"]:
                specs["-".join([*parts, alias])] = {**spec, "centralities": alias}
        else:
            specs["-".join(parts)] = spec
    return specs


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


def spec_input_paths(spec: dict[str, Any], run: str) -> dict[str, str]:
    """The result files a spec reads besides the panel: its network's centralities and, if spatial, its weights."""
    paths = {"centrality": f"{run}/centrality/{spec['network']}.parquet"}
    if spec["family"] in USES_WEIGHTS:
        paths["weights"] = f"{run}/weights/{spec['weights']}.parquet"
    return paths
