"""Configuration flows one way: editing any config key reruns exactly the rules that read it.

For every leaf key of config.yaml (and of the demo overlay, on top of the demo), the test changes the value to
another valid one, builds Snakemake's DAG of the changed config in process (the same parse and params evaluation as
``snakemake -n --configfile``), and compares every job with the unchanged DAG: a job that is new, or whose params
differ, is a job Snakemake reruns because of the edit (its descendants then rerun because their inputs change, and
rules that collect a changed set of files — the spec curve when a spec is renamed — rerun by the input trigger;
neither is counted). The set of rules with such jobs must equal READERS below, the map of who reads what written
from the entry points (scripts/rules/*.py). A key that reruns nothing, or a rule that reruns although it does not
read the key, fails. Every leaf is edited: numbers +1 (×1.1), booleans flipped, text changed, a reference replaced
by another valid name (ALTERNATIVES), a list item swapped with its neighbour when no other value is valid; the
few keys that cannot change alone without breaking a reference elsewhere are listed in NOT_ALONE with the reason.

Deliberate exceptions: the manifest records the whole config, so every key reruns it; keys that only document data
(description, unit, license, citation) and the grid guard (models.max_specs, confirm_large_grid) rerun only it (and a
variable's description and unit the export's codebooks).
tests/test_workflow.py::test_dry_run_reruns_the_readers_of_models_panel_years checks the in-process comparison
against a real ``snakemake -n`` on a finished demo run.
"""
import builtins
import copy
import fnmatch
import gc
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from tests.conftest import ROOT

CROSS, SPATIAL, PANEL, SPANEL = ("models_cross_section_[0-9]*", "models_spatial_[0-9]*", "models_panel_[0-9]*",
                                 "models_spatial_panel_[0-9]*")
ALL_MODELS = {CROSS, SPATIAL, PANEL, SPANEL}
CITY_FIGURES = {"maps", "resilience_maps", "resilience_report"}   # readers of how cities are named

# (regex on the dotted key path, the rules that read it). First match wins; the manifest is added to every key.
READERS: list[tuple[str, set[str]]] = [
    (r"run$", {"*"}),                                              # every output path moves
    (r"seed$", {"panel?demo", "resilience", "moran", "maps", *ALL_MODELS}),
    (r"(mirror|allow_network)$", {"retrieve"}),
    (r"years\.", {"panel", "resilience"}),
    (r"geography\.", {"panel"}),
    (r"sources\.[^.]+\.(license|citation)$", set()),
    (r"sources\.[^.]+\.files\.", {"retrieve", "panel"}),
    (r"sources\.", {"panel"}),
    (r"(variables|derived)\.[^.]+\.(unit|description)$", {"export"}),   # the codebook's labels
    (r"(variables|derived)\.", {"panel", "export"}),
    (r"price_index\.", {"panel"}),
    (r"user_crosswalk$", set()),   # an input file of panel, network and quality, not a param: Snakemake's input
                                   # trigger reruns them (the walk compares params)
    (r"consistency\.[^.]+\.description$", set()),
    (r"consistency\.", {"panel"}),
    (r"network\.[^.]+\.enabled$", {"network", "centrality", "network_report"}),
    (r"network\.gravity\.(weight_to_distance|directed)$", {"network", "centrality", "panel?demo"}),
    (r"network\.[^.]+\.(weight_to_distance|directed)$", {"network", "centrality"}),
    (r"network\.gravity\.", {"network", "panel?demo"}),
    (r"network\.", {"network"}),
    (r"centrality\.", {"centrality", "panel?demo"}),
    (r"weights\.queen\.(kind|island_policy)$", {"weights", "moran", "maps", SPATIAL, SPANEL}),
    (r"weights\.knn6\.(kind|k|island_policy)$", {"weights", "moran", SPATIAL}),
    (r"weights\.[^.]+\.(kind|k|island_policy)$", {"weights", "moran"}),
    (r"weights\.", {"weights"}),
    (r"moran\.", {"moran"}),
    (r"report\.top_links$", {"network_report"}),
    (r"report\.main_table\.", {"report", "figures"}),
    (r"report\.label_cities$", {"maps", "resilience_maps"}),     # trajectories name cities, maps label some
    (r"report\.headline_measure$", {"maps", "resilience_report"}),
    (r"report\.", CITY_FIGURES),
    (r"resilience\.outcomes\.", {"quality", "resilience", "resilience_report"}),
    (r"resilience\.shock_year$", {"panel?demo", "resilience", "resilience_report", "resilience_maps", "maps", CROSS,
                                  PANEL, SPANEL}),
    (r"resilience\.(recovery_year|pre_period\.start)$", {"panel?demo", "quality", "quality_report", "resilience", CROSS,
                                                          PANEL}),   # the flag window
    (r"resilience\.pre_period\.end$", {"panel?demo", "resilience"}),
    (r"resilience\.shift_share\.label$", {"resilience", "resilience_report", "resilience_maps"}),
    (r"resilience\.measures\.\d+$", {"resilience", "resilience_report", "resilience_maps"}),
    (r"resilience\.(counterfactual|shift_share\..*)$", {"resilience", "resilience_report"}),
    (r"resilience\.report\.outcome$", {"resilience_report", "resilience_maps"}),   # the maps' outcome
    (r"resilience\.report\.", {"resilience_report"}),
    (r"resilience\.shocks\.[^.]+\.description$", set()),
    (r"resilience\.shocks\.[^.]+\.shock_year$", {"panel?demo", "resilience", PANEL, SPANEL}),   # the panel windows
    (r"resilience\.shocks\.", {"panel?demo", "resilience"}),
    (r"resilience\.name$", {"resilience", "resilience_report", "evidence", "export", "marginal_effects"}),
    (r"resilience\.profile\.top_share$", {"resilience", "resilience_report"}),   # the ranking table's note
    (r"resilience\.", {"resilience"}),
    (r"quality\.(city_z|province_z|min_scale|variables|not_levels)(\.|$)", {"quality", "quality_report"}),   # notes
    (r"quality\.", {"quality"}),
    (r"hypotheses\.", {"evidence"}),
    (r"models\.(max_specs|confirm_large_grid)$", set()),
    (r"models\.batch_size$", {CROSS}),   # the batches whose membership changes (one batch each for the others)
    (r"models\.outcome$", {"panel?demo", "quality", "quality_report", "resilience", "design", "moran", "maps",
                          "export", *ALL_MODELS}),
    (r"models\.network$", {"panel?demo", "maps", "export", CROSS, SPATIAL, PANEL}),   # spatial panels name theirs
    (r"models\.centrality_year$", {"panel?demo", "design", "moran", "network_report", "figures", "maps",
                                  "export", *ALL_MODELS}),
    (r"models\.centralities\.", {"panel?demo", "design", "moran", "network_report", "figures", "maps", "evidence",
                                 "export", *ALL_MODELS}),      # tables and spec_curve read the aliases only
    (r"models\.standardize$", ALL_MODELS),
    (r"models\.controls\.", {"design", "export", *ALL_MODELS}),
    (r"models\.measures\.0$", {PANEL, SPANEL}),                    # the default measure of specs that set none
    (r"models\.measures\.", {"resilience_report"}),                # the extremes table
    (r"models\.spatial\.weights$", {"maps", *ALL_MODELS}),
    (r"models\.size_classes\.", {CROSS}),
    (r"models\.panel\.", {PANEL, SPANEL}),
    (r"models\.specs\.placebo\.shock_year\.", {CROSS, "resilience"}),    # the resilience stage makes placebo years
    (r"models\.specs\.event_study\.estimator$", {PANEL, "figures"}),      # no event study, no event-study figure
    (r"models\.specs\.(panel|panel_pre_shock|panel_iv|event_study|quality_panel)\.", {PANEL}),
    (r"models\.specs\.spatial_panel\w*\.", {SPANEL}),
    (r"models\.specs\.spatial\.", {SPATIAL}),
    (r"models\.specs\.moderation_panel\.estimator$", {CROSS, PANEL, "marginal_effects"}),   # panel_fe → ols
    (r"models\.specs\.moderation_panel\.", {PANEL, "marginal_effects"}),
    (r"models\.specs\.moderation\w*\.estimator$", {CROSS, SPATIAL, "marginal_effects"}),   # ols → sar: no ME
    (r"models\.specs\.moderation\.moderator\.", {CROSS, "marginal_effects"}),   # the order of the figures
    (r"models\.specs\.moderation\w*\.", {CROSS}),   # same spec names: the figures' inputs change, not their params
    (r"models\.specs\.grid\.estimator\.1$", {SPATIAL}),                 # sar → sem
    (r"models\.specs\.grid\.weights\.", {SPATIAL}),                     # the OLS specs of the grid take no weights
    (r"models\.specs\.grid\.", {CROSS, SPATIAL}),
    (r"models\.specs\.\w+\.estimator$", {CROSS, SPATIAL}),               # ols → sar moves a spec between families
    (r"models\.specs\.", {CROSS}),
    (r"models\.moderators\.(concentration|capital|working_age|sparse_ties|tie_degree)\.",   # also in moderation_panel
     {CROSS, PANEL, "design", "export", "marginal_effects"}),
    (r"models\.moderators\.", {CROSS, "design", "export", "marginal_effects"}),
    (r"demo\.(n_rows|n_cols)$", {"*"}),                            # new synthetic cities: every stage
    (r"demo\.", {"panel"}),
]

# Another valid value where the generic change (flip, +1, ×1.1, text appended) would break a reference.
ALTERNATIVES: list[tuple[str, object]] = [
    (r"geography\.source$", "csmar_gdp"),
    (r"(years|network\.\w+\.year_range)\.start$", lambda old: old - 1),  # +1: a panel year loses its t − 1 data
    (r"models\.panel\.years\.end$", lambda old: old - 1),     # +1: beyond the data and the network
    (r"models\.centralities\.\w+$", lambda old: "harmonic" if old != "harmonic" else "pagerank"),
    (r"mirror$", "/another/mirror"),                                # null keys get a value
    (r"user_crosswalk$", "data/crosswalk/jia_et_al_2020.csv"),
    (r"report\.cjk_font$", "Noto Sans CJK SC"),
    (r"quality\.variables$", ["gdp", "real_gdp"]),
    (r"hypotheses\.tests\.[^.]+\.sign$", lambda old: "-" if old == "+" else "+"),
    (r"hypotheses\.tests\.[^.]+\.variable$", lambda old: "cc" if old != "cc" else "dc"),
    (r"hypotheses\.tests\.[^.]+\.(shocks\.\w+\.)?(primary|unflagged|specs\.\d+)$",
     lambda old: "orthogonal" if old != "orthogonal" else "baseline-drop"),
    (r"report\.main_table\.\d+$", "orthogonal"),
    (r"(models\.outcome|resilience\.report\.outcome)$", "gdp"),
    (r"models\.spatial\.weights$", "knn6"),
    (r"models\.measures\.1$", "gap_closed"),
    (r"models\.specs\.grid\.estimator\.\d+$", "sem"),
    (r"models\.specs\.spatial_panel_durbin\.estimator$", "panel_sar"),   # effects is a spatial-panel key
    (r"models\.specs\.moderation_panel\.estimator$", "ols"),   # an event study takes no moderator
    (r"models\.specs\.\w+\.estimator$", lambda old: {"ols": "sar", "panel_fe": "event_study"}.get(old, "panel_fe")),
    (r"models\.specs\.\w+\.measure$", "recovery"),
    (r"models\.specs\.\w+\.centralities$", "joint"),
    (r"models\.specs\.\w+\.shock$", "none"),
    (r"models\.specs\.(panel_)?iv\.instruments\.network$", "gravity"),
    (r"models\.specs\.panel_iv\.network$", "gravity"),      # its centralities are held at 2019
    (r"derived\.[^.]+\.kind$", lambda old: "index_from_growth" if old != "index_from_growth" else "deflate"),   # `of`
    (r"demo\.moderation\.moderator$", "concentration"),
    (r"models\.moderators\.\w+\.variable$", "gdp_per_capita"),
    (r"models\.moderators\.\w+\.network$", lambda old: "gravity" if old != "gravity" else "gravity_top10"),
    (r"models\.moderators\.\w+\.measure$", lambda old: "degree" if old != "degree" else "strength"),
]

# Keys that cannot change alone: another key names their value, or they select a block of other keys.
NOT_ALONE = {
    "network.gravity.kind": "each network kind needs its own keys (gravity: mass …; flows: source, window)",
    "network.gravity_directed.kind": "each network kind needs its own keys",
    "network.gravity_top10.kind": "each network kind needs its own keys",
    "network.baidu_flows.kind": "each network kind needs its own keys",
    "derived.real_gdp.kind": "chain_index takes index, level and base_year; the other kinds take `of`",
    "sources.census.reader": "each reader needs its own keys (city_year: a year or date column)",
    "sources.covid.reader": "each reader needs its own keys (city_year: a code and a year or date column)",
    "sources.baidu_outbound.reader": "each reader needs its own keys (city_year: a code and a year or date column)",
    "derived.population_filled.kind": "first_available takes priority; the other kinds take `of`",
    "network.gravity_resident.kind": "each network kind needs its own keys",
    "models.panel.shocks.0": "the only named shock of resilience.shocks",
    "models.specs.panel.network": "only gravity_resident reaches 2022, the panel's last lagged year",
    "network.gravity_census2010.kind": "each network kind needs its own keys",
    "models.specs.spatial_inference.estimator": "conley and wild_cluster_province are OLS covariances",
    "models.specs.iv.estimator": "instruments are read by estimator iv only",
    "models.specs.panel_iv.estimator": "instruments are read by the IV estimators only",
    "models.specs.quality_panel.network": "only gravity_resident reaches 2022, the panel's last lagged year",
    "models.specs.spatial_panel.network": "only gravity_resident reaches 2022, the panel's last lagged year",
    "models.specs.spatial_panel_lee_yu.network": "only gravity_resident reaches 2022, the panel's last lagged year",
    "models.specs.spatial_panel_durbin.network": "only gravity_resident reaches 2022, the panel's last lagged year",
    "models.specs.spatial_panel_effects.network": "only gravity_resident reaches 2022, the panel's last lagged year",
    "models.specs.omicron_timing.network": "only gravity_resident reaches 2021, its second centrality year",
    "models.specs.panel_pre_shock.estimator": "panel_centralities is a key of panel_fe specs only",
    "models.specs.panel_pre_shock.panel_centralities": "lagged centralities to 2022 need network gravity_resident",
    "demo.enabled": "the demo needs the keys of its overlay (the overlay's keys are walked on the demo)",
    "models.controls.0.variable": "hypotheses H4a/H4b name this control (log_pop_grid_2019)",
    "models.controls.0.year": "hypotheses H4a/H4b name this control (log_pop_grid_2019)",
    "models.controls.0.transform": "hypotheses H4a/H4b name this control (log_pop_grid_2019)",
    "models.size_classes.classes.0.name": "the size specs name the class (sample size:large)",
    "models.size_classes.classes.1.name": "the size specs name the class (sample size:small_medium)",
    "models.specs.robust_se.estimator": "its cov list (HC3, cluster_province) fits OLS only",
    "models.specs.panel.estimator": "its cov list includes driscoll_kraay, which event studies do not take",
    "models.specs.event_study.cov": "cluster_city is the only covariance an event study takes (scripts/registry.py)",
    "models.specs.event_study.estimator": "as panel_fe it reads lagged centralities to 2022, which only the network "
                                          "gravity_resident has",
    "models.specs.one_at_a_time.centralities": "hypotheses name its specs one_at_a_time-dc/cc/bc",
    "models.specs.moderation.moderator.0": "(demo) the only moderator the demo supplies",
    "network.baidu_flows.enabled": "(demo) a flows network needs retrieved files, which the demo does not retrieve",
    "network.baidu_flows_all.enabled": "(demo) a flows network needs retrieved files, which the demo does not "
                                       "retrieve",
    "network.baidu_flows_all.kind": "each network kind needs its own keys",
    "derived.loans_deposits_gp.kind": "sum takes total; the other kinds take `of`",
    "models.specs.moderation_panel.network": "only gravity_resident reaches 2022, the panel's last lagged year",
    "hypotheses.tests.H5a-urban.enabled": "(demo) its omicron spec moderation_omicron-urbanisation is pruned",
    "hypotheses.tests.H5b.enabled": "(demo) its moderator reads the Baidu flows, which the demo does not have",
    "hypotheses.tests.H5b-clustering.enabled": "(demo) its omicron spec moderation_omicron-tie_clustering is pruned",
}


def alternative(dotted: str, old):
    """The ALTERNATIVES value for a key, or None."""
    for pattern, value in ALTERNATIVES:
        if re.match(pattern, dotted):
            return value(old) if callable(value) else value
    return None


def leaves(node, path=()):
    """(path, value) of every scalar (null included) in a nested config, list items by index; an empty section
    ({} or []) has no leaf."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, str(index)))
    else:
        yield path, node


def changed(value):
    """A different value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return round(value * 1.1 + 0.01, 6)
    if isinstance(value, str):
        if re.fullmatch(r"[0-9a-f]{64}", value):
            return value[:-1] + ("0" if value[-1] != "0" else "1")
        if re.fullmatch(r"[0-9]{6}", value):
            return "110100"
        return value + "_edited"
    return None


def set_path(config, path, value):
    node = config
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = path[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def cached_config_loader():
    """The config-file loaders, remembering the parsed content of the YAML files (the walk parses config.yaml
    hundreds of times; its content does not change, a deep copy is handed out each time): the Snakefile's own for
    config.yaml (scripts.config.load_yaml), Snakemake's for the overlays. The edited overlays (JSON) are always read
    afresh."""
    import snakemake.common.configfile as configfile
    import snakemake.settings.types as types

    import scripts.config

    if getattr(configfile.load_configfile, "cached", False):
        return
    seen = {}

    def remembered(original):
        def load(path):
            if str(path).endswith(".json"):
                return original(path)
            key = (str(path), Path(path).stat().st_mtime_ns)
            if key not in seen:
                seen[key] = original(path)
            return copy.deepcopy(seen[key])

        load.cached = True
        return load

    configfile.load_configfile = types.load_configfile = remembered(configfile.load_configfile)  # bound at import
    scripts.config.load_yaml = remembered(scripts.config.load_yaml)   # the Snakefile imports it on each run


def cached_snakefile_parser():
    """Snakemake's translation of the Snakefile and its .smk includes to Python, and its bytecode, remembered per file
    version (the walk parses the same unchanged files hundreds of times: ≈ 0.09 s of each 0.27 s DAG). A hit hands
    back the code, the rule count and the line map the translation fills, as a fresh parse would; workflow.include
    then compiles the code through the module's global name compile, which hands back the same code object."""
    import snakemake.workflow as workflow_module

    original = workflow_module.parse
    if getattr(original, "cached", False):
        return
    seen = {}

    def parse(path, workflow, linemap, overwrite_shellcmd=None, rulecount=0):
        name = path.get_path_or_uri(secret_free=True)
        key = (name, os.stat(name).st_mtime_ns, overwrite_shellcmd, rulecount)
        if key not in seen:
            fresh: dict[int, int] = {}
            code, count = original(path, workflow, linemap=fresh, overwrite_shellcmd=overwrite_shellcmd,
                                   rulecount=rulecount)
            seen[key] = (code, count, fresh)
        code, count, lines = seen[key]
        linemap.update(lines)
        return code, count

    parse.cached = True
    workflow_module.parse = parse
    compiled = {}

    def compile_once(source, filename, mode):
        key = (source, filename, mode)
        if key not in compiled:
            compiled[key] = builtins.compile(source, filename, mode)
        return compiled[key]

    workflow_module.compile = compile_once


SHARED_KEY = re.compile(r"(results/shared/(?:[A-Za-z0-9_-]+/)+?)[0-9a-f]{12}\b")


def without_keys(text: str) -> str:
    """Paths in `text` without their shared folder's key (Snakefile stage_folder). An edit upstream moves every later
    shared stage to a new folder, and the folder's paths in params (panel's raw_dir) with it; those jobs rerun
    because their inputs change, not because they read the key."""
    return SHARED_KEY.sub(r"\1<key>", text)


def dag_jobs(root: Path, configfiles: list[Path], target: str | None = "manifest") -> dict:
    """{(rule, outputs): params} of every job of the forced DAG of `target` (None: the default target,
    rule all), as Snakemake evaluates them (outputs in shared folders without the folder's key). The manifest waits
    for every job, through one file each: its DAG has every job but rule all, whose 381 inputs (every file) were a
    seventh of each build (walk() checks that the two DAGs have the same jobs)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

    cached_config_loader()
    cached_snakefile_parser()
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow_api = api.workflow(resource_settings=ResourceSettings(cores=1),
                                    config_settings=ConfigSettings(configfiles=configfiles),
                                    snakefile=root / "Snakefile", workdir=root)
        targets = frozenset({target} if target else ())
        workflow = workflow_api.dag(dag_settings=DAGSettings(targets=targets)).workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
        dag = workflow.dag

        async def resolve():
            """The jobs and their dependencies only (DAG.init without the needrun, incomplete-file and inventory
            steps a dry run adds: a third of each build, and no job's params depend on them)."""
            for rule in dag.targetrules:
                await dag.update([await dag.rule2job(rule)])

        workflow.async_run(resolve())
        return {(job.rule.name, tuple(sorted(without_keys(str(path)) for path in job.output))):
                without_keys(json.dumps(sorted(job.params.items()), default=str)) for job in dag.jobs}


def rerun_rules(before: dict, after: dict) -> set[str]:
    """Rules with a job that is new or whose params changed (not a changed input set: module docstring)."""
    return {key[0] for key, params in after.items() if key[0] != "all" and before.get(key) != params}


def expected_rules(dotted: str, rules: set[str], demo: bool) -> set[str]:
    for pattern, readers in READERS:
        if re.match(pattern, dotted):
            break
    else:
        raise AssertionError(f"{dotted}: no entry in READERS; say which rules read it")
    if "*" in readers:
        return {"*"}
    readers = {r.replace("?demo", "") for r in readers if demo or not r.endswith("?demo")}
    present = {r for r in readers if any(fnmatch.fnmatchcase(rule, r) for rule in rules)}  # the demo has no retrieve
    return {*present, "manifest"}


def check(readers: set[str], rerun: set[str]) -> str | None:
    """None when the rerun rules are exactly the readers (patterns), else what differs."""
    if readers == {"*"}:
        return None if rerun else "reruns nothing"
    unexpected = sorted(r for r in rerun if not any(fnmatch.fnmatchcase(r, p) for p in readers))
    missing = sorted(p for p in readers if not any(fnmatch.fnmatchcase(r, p) for r in rerun))
    if unexpected or missing:
        return f"reruns {sorted(rerun)}; not readers: {unexpected}; readers that do not rerun: {missing}"
    return None


def dag_of_edit(root: Path, base_files: list[Path], config: dict, path: tuple[str, ...], value) -> dict:
    """The DAG with `path` set to `value` (through an overlay, as a user's --configfile would)."""
    edited = copy.deepcopy(config)
    set_path(edited, path, value)
    overlay = Path(os.environ.get("TMPDIR", "/tmp")) / f"cityres_key_{os.getpid()}.json"
    # the whole config in its own order: Snakemake merges an overlay's keys in front, so a partial overlay would
    # also reorder sections (which legitimately reruns rules whose outputs follow config order); JSON because
    # Snakemake reads it in a fraction of YAML's time
    overlay.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    return dag_jobs(root, [*base_files, overlay])


def valid_options(message: str, config: dict) -> list:
    """The values a validation message says a key may take: an enum, the keys of a section, the variables."""
    enum = re.search(r"is not one of \[([^\]]*)\]", message)
    if enum:
        return [o.strip(" '") for o in enum.group(1).split(",")]
    section = re.search(r"is not a key of (\w+)", message)
    if section:
        return list(config.get(section.group(1), {}))
    if "is not a variable" in message:
        return [*config["variables"], *config.get("derived", {})]
    return []


def edited_dag(root: Path, base_files: list[Path], config: dict, path: tuple[str, ...]):
    """(value, DAG) of the first edit of `path` that gives a valid config: the ALTERNATIVES value or the generic
    change, then another value the validation message allows, then (list items) a swap with the neighbour.
    (None, None) when the schema allows the current value only; the last error when no edit is valid."""
    original = dict(leaves(config))[path]
    value = alternative(".".join(path), original)
    value = changed(original) if value is None else value
    try:
        return value, dag_of_edit(root, base_files, config, path, value)
    except BaseException as err:          # noqa: BLE001  (Snakemake reports an invalid config as any exception)
        error, options = err, valid_options(str(err), config)
    if options == [original]:
        return None, None
    for option in [o for o in options if o != original][:1]:
        try:
            return option, dag_of_edit(root, base_files, config, path, option)
        except BaseException as err:      # noqa: BLE001
            error = err
    if path[-1].isdigit():
        return "(swapped with its neighbour)", swapped(root, base_files, config, path)
    raise error


WALK: dict = {}   # a worker process's shared arguments of check_key, set once per process by the pool


def share_walk(root: Path, base_files: list[Path], base_jobs: dict, config: dict, demo: bool) -> None:
    """Pool initializer: the arguments every key shares, sent to each worker once instead of with every key. The
    cyclic garbage collector runs after 50,000 net allocations instead of 700: a DAG allocates hundreds of thousands
    of objects, and the frequent young collections kept traversing them (the walk's CPU 35.4 → 30.7 s over 197 keys,
    two interleaved pairs)."""
    gc.set_threshold(50_000, 20, 100)
    WALK.update(root=root, base_files=base_files, base_jobs=base_jobs, config=config, demo=demo)


def check_key(path: tuple[str, ...]) -> tuple[str, str | None]:
    """Change one key in a copy of the config and compare the DAGs (run in a worker process)."""
    root, base_files, base_jobs, config, demo = (WALK[k] for k in ("root", "base_files", "base_jobs", "config",
                                                                   "demo"))
    dotted = ".".join(path)
    if dotted in NOT_ALONE:
        return dotted, None
    try:
        _, after = edited_dag(root, base_files, config, path)
    except BaseException as err:          # noqa: BLE001  (an invalid edit is a test problem to report)
        return dotted, f"no edit gives a valid config (add an ALTERNATIVES entry): {' '.join(str(err).split())[:300]}"
    if after is None:
        return dotted, None               # the schema allows one value only: the key cannot go stale
    try:
        readers = expected_rules(dotted, {k[0] for k in after}, demo)
    except AssertionError as err:
        return dotted, str(err)
    return dotted, check(readers, rerun_rules(base_jobs, after))


def swapped(root: Path, base_files: list[Path], config: dict, path: tuple[str, ...]) -> dict:
    """The DAG with a list item swapped with its neighbour (the order of a list is part of its value)."""
    items = dict(leaves(config))
    index = int(path[-1])
    other = (*path[:-1], str(index + 1 if (*path[:-1], str(index + 1)) in items else index - 1))
    edited = copy.deepcopy(config)
    set_path(edited, path, items[other])
    return dag_of_edit(root, base_files, edited, other, items[path])


def walk(config: dict, base_files: list[Path], demo: bool, keys=None) -> list[str]:
    """Problems of every leaf key (or of `keys`), checked two at a time."""
    base_jobs = dag_jobs(ROOT, base_files)
    every_job = {key for key in dag_jobs(ROOT, base_files, target=None) if key[0] != "all"}
    assert set(base_jobs) == every_job, f"jobs the manifest does not wait for: {sorted(every_job - set(base_jobs))}"
    paths = [p for p, _ in leaves(config) if keys is None or ".".join(p) in keys]
    with ProcessPoolExecutor(max_workers=2, initializer=share_walk,
                             initargs=(ROOT, base_files, base_jobs, config, demo)) as pool:
        results = list(pool.map(check_key, paths, chunksize=8))
    return [f"{key}: {problem}" for key, problem in results if problem]


def test_every_config_key_reruns_exactly_its_readers():
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    overlay = yaml.safe_load((ROOT / "workflow" / "demo.yaml").read_text(encoding="utf-8"))
    keys = {".".join(p) for p, _ in [*leaves(config), *leaves(overlay)]}
    assert set(NOT_ALONE) <= keys, sorted(set(NOT_ALONE) - keys)     # the exceptions name real keys
    problems = walk(config, [], demo=False)
    assert not problems, "\n".join(problems)


def test_every_demo_overlay_key_reruns_exactly_its_readers():
    from snakemake.utils import update_config

    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    overlay = yaml.safe_load((ROOT / "workflow" / "demo.yaml").read_text(encoding="utf-8"))
    update_config(config, overlay)
    keys = {".".join(p) for p, _ in leaves(overlay)}
    problems = walk(config, [ROOT / "workflow" / "demo.yaml"], demo=True, keys=keys)
    assert not problems, "\n".join(problems)


def test_entry_points_never_read_the_config_object():
    offenders = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "scripts").rglob("*.py"))
                 if re.search(r"\bsmk\.config\b|snakemake\.config\b", p.read_text(encoding="utf-8"))]
    assert offenders == []
