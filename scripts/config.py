"""Config validation: JSON Schema (workflow/schemas/config.schema.yaml) plus cross-references between keys."""

import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from scripts.common import InputError
from scripts.registry import ESTIMATORS, MEASURES, REGISTRIES

SCHEMA = Path(__file__).resolve().parent.parent / "workflow" / "schemas" / "config.schema.yaml"


def _path(parts) -> str:
    return "/".join(str(p) for p in parts) or "(top level)"


def with_registries(node: Any) -> Any:
    """The schema with every ``{x-registry: <name>}`` node given the enum of that registry's names
    (scripts/registry.py), so the names are listed once."""
    if isinstance(node, dict):
        node = {key: with_registries(value) for key, value in node.items()}
        if "x-registry" in node:
            node["enum"] = list(REGISTRIES[node.pop("x-registry")])
        return node
    if isinstance(node, list):
        return [with_registries(item) for item in node]
    return node


@cache
def load_schema(schema_path: Path = SCHEMA) -> dict[str, Any]:
    """The config schema as validated: the YAML file with the registries' names filled in (read once per
    process)."""
    return with_registries(load_yaml(schema_path))


def load_yaml(path: str | Path) -> Any:
    """A YAML file's content (libyaml's loader where PyYAML has it); a syntax error stops with the file, line and
    column (Snakemake's own message names neither)."""
    try:
        return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise InputError(f"{path}, line {mark.line + 1}, column {mark.column + 1}: not valid YAML ({err.problem}). "
                         "Check the indentation (spaces, not tabs) and the brackets and quotes on that line and "
                         "the one before.") from None


def repeated_configfile_flags(argv: list[str]) -> list[str]:
    """The overlays named after each ``--configfile`` flag when the flag appears more than once (Snakemake then keeps
    only the last one, silently); empty otherwise."""
    flags = [k for k, arg in enumerate(argv) if arg.split("=")[0] in ("--configfile", "--configfiles")]
    if len(flags) < 2:
        return []
    groups = []
    for k in flags:
        if "=" in argv[k]:
            groups.append(argv[k].split("=", 1)[1])
            continue
        values = []
        for arg in argv[k + 1:]:
            if arg.startswith("-"):
                break
            values.append(arg)
        groups.append(" ".join(values))
    return groups


@cache
def schema_validator(schema_path: Path = SCHEMA):
    """The jsonschema validator of the config schema (built once per process)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(schema_path))


def schema_errors(config: dict[str, Any], schema_path: Path = SCHEMA) -> list[str]:
    """Every schema violation as 'key/path: message', sorted."""
    messages = []
    for error in schema_validator(schema_path).iter_errors(config):
        message = error.message
        if error.validator == "additionalProperties":
            message = f"unknown key: {message} (check the spelling against {schema_path.name})"
        elif error.validator == "pattern" and "description" in error.schema:
            message = f"{error.instance!r} is not allowed here: {error.schema['description']}"
        messages.append(f"{_path(error.absolute_path)}: {message}")
    return sorted(set(messages))


def time_column_problems(source: dict[str, Any]) -> list[str]:
    """A long-table source names its time by year_column or by date_column (with date_aggregate), not both."""
    if source.get("reader") not in ("city_year", "province_year"):
        return []
    has_year, has_date = "year_column" in source, "date_column" in source
    if has_year == has_date:
        return ["give either year_column or date_column (with date_aggregate)" if not has_year else
                "give year_column or date_column, not both"]
    if has_date and "date_aggregate" not in source:
        return ["date_column needs date_aggregate (first, last, mean, sum, max or min): how the dates of a year "
                "become its value"]
    if has_year and ("date_aggregate" in source or "date_format" in source):
        return ["date_aggregate and date_format apply to a date_column only"]
    return []


def reference_errors(config: dict[str, Any]) -> list[str]:
    """Keys that name other keys must name existing ones (sources, variables, weights)."""
    errors = []
    sources, variables = config.get("sources", {}), config.get("variables", {})
    known = set(variables) | set(config.get("derived", {}))
    errors += [f"sources/{name}: {problem}" for name, spec in sources.items() for problem in time_column_problems(spec)]
    for name, spec in variables.items():
        if spec.get("source") not in sources:
            errors.append(f"variables/{name}/source: '{spec.get('source')}' is not a key of sources")
    for name, spec in config.get("derived", {}).items():
        if spec.get("kind") == "deflate" and "price_index" not in config:
            errors.append(f"derived/{name}: kind 'deflate' needs a top-level price_index block")
        for key in ("of", "by"):
            if key in spec and spec[key] not in known:
                errors.append(f"derived/{name}/{key}: '{spec[key]}' is not a variable")
        for key in ("total", "index", "level", "priority"):
            errors += [f"derived/{name}/{key}: '{item}' is not a variable" for item in spec.get(key, []) if item not in known]
        needed = {"chain_index": ("index", "level", "base_year"), "first_available": ("priority",),
                  "sum": ("total",), "share": ("of", "total"), "ratio": ("of", "by")}.get(spec.get("kind"), ("of",))
        errors += [f"derived/{name}: kind '{spec.get('kind')}' needs '{key}'" for key in needed if key not in spec]
    errors += [f"quality/not_levels: '{name}' is not a variable" for name in config.get("quality", {}).get("not_levels", [])
               if name not in known]
    for name, spec in config.get("consistency", {}).items():
        errors += [f"consistency/{name}/{key}: '{spec[key]}' is not a variable" for key in ("a", "b")
                   if spec.get(key) not in known]
    for name, spec in config.get("network", {}).items():
        for item in [*spec.get("mass", []), *([spec["asymmetry"]] if "asymmetry" in spec else [])]:
            if item not in known:
                errors.append(f"network/{name}: '{item}' is not a variable")
        if spec.get("kind") == "flows" and spec.get("source") not in sources:
            errors.append(f"network/{name}/source: '{spec.get('source')}' is not a key of sources")
        if spec.get("kind") == "flows" and spec.get("enabled", True) and config.get("demo", {}).get("enabled"):
            errors.append(f"network/{name}: a flows network reads retrieved source files, which the demo does not "
                          "retrieve; switch it off in the demo overlay (enabled: false)")
    models = config.get("models", {})
    if models.get("network") not in config.get("network", {}):
        errors.append(f"models/network: '{models.get('network')}' is not a key of network")
    elif not config["network"][models["network"]].get("enabled", True):
        errors.append(f"models/network: '{models['network']}' is switched off (enabled: false)")
    for alias in config.get("demo", {}).get("effects", {}):
        if alias not in models.get("centralities", {}):
            errors.append(f"demo/effects/{alias}: not an alias of models/centralities")
    planted = config.get("demo", {}).get("moderation")
    if planted:
        if "variable" not in models.get("moderators", {}).get(planted["moderator"], {}):
            errors.append(f"demo/moderation/moderator: '{planted['moderator']}' is not a models.moderators entry "
                          "with a variable (a network measure is not generated before the panel)")
        errors += [f"demo/moderation/effects/{alias}: not an alias of models/centralities"
                   for alias in planted["effects"] if alias not in models.get("centralities", {})]
    weights = config.get("weights", {})
    for name, spec in weights.items():
        for key in ("geographic", "economic"):
            if key in spec and spec[key] not in weights:
                errors.append(f"weights/{name}/{key}: '{spec[key]}' is not a key of weights")
        if spec.get("kind") == "economic" and spec.get("variable") not in known:
            errors.append(f"weights/{name}/variable: '{spec.get('variable')}' is not a variable")
    resilience = config.get("resilience", {})
    for item in [*resilience.get("outcomes", []), *resilience.get("shift_share", {}).get("sectors", [])]:
        if item not in known:
            errors.append(f"resilience: '{item}' is not a variable")
    errors += profile_errors(resilience, known)
    labels = [*resilience.get("outcomes", []), resilience.get("shift_share", {}).get("label")]
    if report_outcome(resilience) not in labels:
        errors.append("resilience/report/outcome: not one of resilience.outcomes")
    models_spec = config.get("models", {})
    if models_spec.get("outcome") not in labels:
        errors.append(f"models/outcome: '{models_spec.get('outcome')}' is not one of resilience.outcomes")
    errors += spec_errors(config)
    for k, control in enumerate(config.get("models", {}).get("controls", [])):
        if control.get("variable") not in known:
            errors.append(f"models/controls/{k}/variable: '{control.get('variable')}' is not a variable")
    from scripts.preflight import network_measures

    networks = config.get("network", {})
    used = used_moderators(config.get("models", {}))
    for name, moderator in config.get("models", {}).get("moderators", {}).items():
        if "variable" in moderator and moderator["variable"] not in known:
            errors.append(f"models/moderators/{name}/variable: '{moderator['variable']}' is not a variable")
        if moderator.get("network", "") not in ("", *networks):
            errors.append(f"models/moderators/{name}/network: '{moderator['network']}' is not a key of network")
        elif networks.get(moderator.get("network"), {}).get("enabled", True) is False and name in used:
            errors.append(f"models/moderators/{name}/network: '{moderator['network']}' is switched off but a spec "
                          "uses this moderator")   # an unused one may point to a switched-off network (demo)
        elif "network" in moderator and moderator.get("measure") not in network_measures(networks[moderator["network"]]):
            errors.append(f"models/moderators/{name}/measure: network '{moderator['network']}' has no "
                          f"'{moderator['measure']}'; it has {sorted(network_measures(networks[moderator['network']]))}")

    geo = config.get("geography", {}).get("source")
    if geo is not None and geo not in sources:
        errors.append(f"geography/source: '{geo}' is not a key of sources")
    return errors


def used_moderators(models: dict[str, Any]) -> set[str]:
    """The moderators the enabled spec groups name (a name or a list)."""
    names: set[str] = set()
    for spec in models.get("specs", {}).values():
        if spec.get("enabled", True):
            value = spec.get("moderator", "none")
            names.update(value if isinstance(value, list) else [value])
    return names


def report_outcome(resilience: dict[str, Any]) -> str | None:
    """The outcome the resilience report and maps show: ``resilience.report.outcome``, else the first outcome."""
    return resilience.get("report", {}).get("outcome", (resilience.get("outcomes") or [None])[0])


def profile_errors(resilience: dict[str, Any], known: set[str]) -> list[str]:
    """The profile's sectors are variables and its weights are not all zero."""
    profile = resilience.get("profile", {"sectors": [], "weights": {"depth": 1}})
    errors = [f"resilience/profile/sectors: '{item}' is not a variable" for item in profile["sectors"]
              if item not in known]
    if not any(weight > 0 for weight in profile["weights"].values()):
        errors.append("resilience/profile/weights: every weight is 0; give at least one component a positive weight")
    return errors


def shock_errors(config: dict[str, Any]) -> list[str]:
    """The main shock's name is not also a named shock's; models.panel.shocks name keys of resilience.shocks that
    come after the main shock."""
    resilience, errors = config.get("resilience", {}), []
    named, main = resilience.get("shocks", {}), resilience.get("name", "covid_2020")
    if main in named:
        errors.append(f"resilience/name: '{main}' is also a key of resilience.shocks; rename one of them")
    for shock in config.get("models", {}).get("panel", {}).get("shocks", []):
        if shock not in named:
            errors.append(f"models/panel/shocks: '{shock}' is not a key of resilience.shocks {sorted(named)}")
        elif named[shock]["shock_year"] <= resilience["shock_year"]:
            errors.append(f"models/panel/shocks: '{shock}' ({named[shock]['shock_year']}) must come after the main "
                          f"shock (resilience.shock_year {resilience['shock_year']}): its window starts where the "
                          "main shock's ends")
    return errors


def instrument_errors(name: str, spec: dict[str, Any], networks: dict[str, Any]) -> list[str]:
    """An IV spec names an enabled network as its instruments, and only IV specs have instruments."""
    where = f"models/specs/{spec['group']} ({name})"
    instruments = spec.get("instruments")
    if not ESTIMATORS[spec["estimator"]].instrumented:
        return [f"{where}: instruments apply to estimators iv and panel_iv only"] if instruments else []
    if not instruments:
        return [f"{where}: estimator {spec['estimator']} needs instruments: {{network: <a key of network>, year: "
                "<year>}"]
    network = networks.get(instruments["network"])
    if network is None or not network.get("enabled", True):
        return [f"{where}: instruments.network '{instruments['network']}' is not an enabled key of network"]
    if instruments["network"] == spec["network"] and instruments["year"] == spec["centrality_year"]:
        return [f"{where}: the instruments are the centralities themselves (same network and year); choose another "
                "network or year"]
    return []


def spec_errors(config: dict[str, Any]) -> list[str]:
    """Every expanded model spec names an existing measure, network, weights and centrality alias."""
    from scripts.specs import expand_specs

    models, errors = config.get("models", {}), []
    try:
        specs = expand_specs(models)
    except InputError as err:
        return [str(err)]
    cap = models.get("max_specs", 200)
    if len(specs) > cap and not models.get("confirm_large_grid", False):
        groups = {}
        for spec in specs.values():
            groups[spec["group"]] = groups.get(spec["group"], 0) + 1
        largest = ", ".join(f"{g}: {n}" for g, n in sorted(groups.items(), key=lambda item: -item[1])[:5])
        return [f"models/specs: the specs expand to {len(specs)} model jobs, more than models.max_specs = {cap} "
                f"(largest groups: {largest}). Set models.confirm_large_grid: true to run them all, raise "
                "models.max_specs, or shorten the lists of the largest groups"]
    errors += shock_errors(config)
    measures = config.get("resilience", {}).get("measures", [])
    classes = [c["name"] for c in models.get("size_classes", {}).get("classes", [])]
    samples = ("all", "unflagged", "region:east", "region:central", "region:west", "region:northeast", *(f"size:{c}" for c in classes))
    for name, spec in specs.items():
        allowed = ESTIMATORS[spec["estimator"]].covariances
        if spec["cov"] not in allowed:
            errors.append(f"models/specs/{spec['group']} ({name}): cov '{spec['cov']}' does not fit the estimator "
                          f"'{spec['estimator']}'; use one of {list(allowed)}")
        if "panel" in spec["family"] and spec["sample"] not in ("all", "unflagged"):
            errors.append(f"models/specs/{spec['group']} ({name}): panel specs take sample all or unflagged, not "
                          f"'{spec['sample']}'")
        if spec["shock"] != "none" and (spec["family"] not in ("cross_section", "spatial") or spec["shock_year"]):
            errors.append(f"models/specs/{spec['group']} ({name}): shock '{spec['shock']}' applies to cross-section "
                          "and spatial specs without a placebo shock_year")
        if spec["moderator"] != "none" and "panel" in spec["family"] and spec["estimator"] != "panel_fe":
            errors.append(f"models/specs/{spec['group']} ({name}): a moderator applies to cross-section, spatial and "
                          f"panel_fe specs, not to {spec['estimator']}")
        if spec.get("panel_centralities", "lagged") != "lagged" and spec["estimator"] != "panel_fe":
            errors.append(f"models/specs/{spec['group']} ({name}): panel_centralities applies to panel_fe specs only")
        if spec.get("effects") == "random" and spec.get("bias_correction", "none") != "none":
            errors.append(f"models/specs/{spec['group']} ({name}): bias_correction lee_yu is a fixed-effects "
                          "transformation; drop it or use effects entity, time or twoway")
        for key in ("bias_correction", "effects"):
            if key in spec and spec["family"] != "spatial_panel":
                errors.append(f"models/specs/{spec['group']} ({name}): {key} applies to spatial panels only "
                              f"({', '.join(e for e, v in ESTIMATORS.items() if v.family == 'spatial_panel')})")
        errors += instrument_errors(name, spec, config.get("network", {}))
        if "panel" in spec["family"] and "panel" not in models:
            errors.append(f"models/specs/{spec['group']} ({name}): panel specs need models.panel.years")
        checks = [("measure", "panel" in spec["family"] or spec["measure"] in measures, "resilience.measures"),
                  ("sample", spec["sample"] in samples, list(samples)),
                  ("moderator", spec["moderator"] in ("none", *models.get("moderators", {})), "none or models.moderators"),
                  ("shock", spec["shock"] in ("none", *config.get("resilience", {}).get("shocks", {})),
                   "none or resilience.shocks"),
                  ("network", config.get("network", {}).get(spec["network"], {}).get("enabled", True) is not False
                   and spec["network"] in config.get("network", {}), "the enabled networks"),
                  ("weights", spec["weights"] in config.get("weights", {}), "weights"),
                  ("centralities", spec["centralities"] in ("joint", "each", "orthogonal", *models["centralities"]),
                   "joint/each/orthogonal or an alias of models.centralities")]
        errors += [f"models/specs/{spec['group']} ({name}): {key} '{spec[key]}' is not one of {where}"
                   for key, ok, where in checks if not ok]
    from scripts.hypothesis_config import hypothesis_errors
    from scripts.preflight import spec_feasibility_errors

    errors += spec_feasibility_errors(config, specs)
    errors += hypothesis_errors(config.get("hypotheses", {}), specs, models,
                                config.get("resilience", {}).get("shocks", {}), config.get("network", {}))
    headline = config.get("report", {}).get("headline_measure", "drop")
    if headline not in measures or MEASURES[headline].outcome != "outcome":
        errors.append(f"report/headline_measure: '{headline}' must be one of resilience.measures computed per outcome "
                      f"(not a shift-share measure); resilience.measures has {measures}")
    for name in config.get("report", {}).get("main_table", []):
        if name not in specs:
            errors.append(f"report/main_table: '{name}' is not a model spec; specs are {sorted(specs)}")
    return errors


def validate_config(config: dict[str, Any], schema_path: Path = SCHEMA) -> None:
    """Raise one InputError listing every problem with its key path."""
    errors = schema_errors(config, schema_path)
    if not errors:
        errors = reference_errors(config)
    if errors:
        raise InputError("config is invalid:\n  - " + "\n  - ".join(errors) +
                         "\nEvery key is documented in workflow/schemas/config.schema.yaml.")


def cli(argv: list[str]) -> int:
    """``python -m scripts.config check OVERLAY.yaml …``: where an overlay's YAML is broken (Snakemake says only
    "not valid JSON or YAML"), then whether config.yaml with the overlays passes validation."""
    if len(argv) < 1 or argv[0] != "check":
        print("usage: python -m scripts.config check [OVERLAY.yaml …]", file=sys.stderr)
        return 2
    from snakemake.utils import update_config

    try:
        config: dict[str, Any] = {}
        for path in [SCHEMA.parent.parent.parent / "config.yaml", *argv[1:]]:
            update_config(config, load_yaml(path) or {})
        validate_config(config)
    except (InputError, OSError) as err:
        print(err, file=sys.stderr)
        return 1
    print(f"config.yaml{''.join(' + ' + a for a in argv[1:])}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
