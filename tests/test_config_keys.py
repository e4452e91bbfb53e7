"""Configuration flows one way: editing any config key reruns exactly the rules that read it.

For every leaf key of config.yaml (and of the demo overlay, on top of the demo), the test changes the value to
another valid one, builds Snakemake's DAG of the changed config in process (the same parse and params evaluation as
``snakemake -n --configfile``), and compares every job with the unchanged DAG: a job that is new, or whose params or
input files differ, is a job Snakemake's params/input rerun triggers would rerun (its descendants then rerun because
their inputs change; they are not counted). The set of rules with such jobs must equal READERS below, the map of
who reads what written from the entry points (scripts/rules/*.py). A key that reruns nothing, or a rule that reruns
although it does not read the key, fails.

Deliberate exceptions: the manifest records the whole config, so every key reruns it; keys that only document data
(description, unit, license, citation) and the grid guard (models.max_specs, confirm_large_grid) rerun only it.
tests/test_workflow.py::test_dry_run_reruns_the_readers_of_models_panel_years checks the in-process comparison
against a real ``snakemake -n`` on a finished demo run.
"""
import copy
import fnmatch
import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from tests.conftest import ROOT

CROSS, SPATIAL, PANEL, SPANEL = ("models_cross_section_[0-9]*", "models_spatial_[0-9]*", "models_panel_[0-9]*",
                                 "models_spatial_panel_[0-9]*")
ALL_MODELS = {CROSS, SPATIAL, PANEL, SPANEL}
REPORTS = {"report", "resilience_report", "figures"}            # readers of how cities are named, the headline

# (regex on the dotted key path, the rules that read it). First match wins; the manifest is added to every key.
READERS: list[tuple[str, set[str]]] = [
    (r"run$", {"*"}),                                              # every output path moves
    (r"seed$", {"panel?demo", "resilience", "moran", "figures", *ALL_MODELS}),
    (r"(mirror|allow_network)$", {"retrieve"}),
    (r"years\.", {"panel", "resilience"}),
    (r"geography\.", {"panel"}),
    (r"sources\.[^.]+\.(license|citation)$", set()),
    (r"sources\.baidu_outbound\.files\.\d+\.url$", {"retrieve", "panel", "network"}),
    (r"sources\.[^.]+\.files\.", {"retrieve", "panel"}),
    (r"sources\.", {"panel"}),
    (r"(variables|derived)\.[^.]+\.(unit|description)$", set()),
    (r"(variables|derived|price_index)\.", {"panel"}),
    (r"network\.gravity\.(weight_to_distance|directed)$", {"network", "centrality", "panel?demo"}),
    (r"network\.[^.]+\.(weight_to_distance|directed)$", {"network", "centrality"}),
    (r"network\.gravity\.", {"network", "panel?demo"}),
    (r"network\.", {"network"}),
    (r"centrality\.", {"centrality", "panel?demo"}),
    (r"weights\.queen\.(kind|island_policy)$", {"weights", "moran", "figures", SPATIAL, SPANEL}),
    (r"weights\.knn6\.(k|island_policy)$", {"weights", "moran", SPATIAL}),
    (r"weights\.[^.]+\.(kind|k|island_policy)$", {"weights", "moran"}),
    (r"weights\.", {"weights"}),
    (r"moran\.", {"moran"}),
    (r"report\.top_links$", {"network_report"}),
    (r"report\.main_table\.", {"report", "figures"}),
    (r"report\.", REPORTS),
    (r"resilience\.outcomes\.", {"quality", "resilience", "resilience_report"}),
    (r"resilience\.shock_year$", {"panel?demo", "resilience", "resilience_report", "figures", CROSS, PANEL, SPANEL}),
    (r"resilience\.(recovery_year|pre_period\.start)$", {"panel?demo", "quality", "resilience", CROSS, PANEL}),
    (r"resilience\.pre_period\.end$", {"panel?demo", "resilience"}),
    (r"resilience\.(counterfactual|measures\.\d+|shift_share\..*)$", {"resilience", "resilience_report"}),
    (r"resilience\.report\.", {"resilience_report"}),
    (r"resilience\.", {"resilience"}),
    (r"quality\.", {"quality"}),
    (r"hypotheses\.", {"evidence"}),
    (r"models\.(max_specs|confirm_large_grid)$", set()),
    (r"models\.batch_size$", {CROSS, SPATIAL}),                     # batches whose membership changes
    (r"models\.outcome$", {"panel?demo", "quality", "design", "moran", "report", *ALL_MODELS}),
    (r"models\.centrality_year$", {"panel?demo", "design", "moran", "network_report", "figures", *ALL_MODELS}),
    (r"models\.centralities\.", {"panel?demo", "design", "moran", "network_report", "figures", "tables", "report",
                                 "spec_curve", "evidence", *ALL_MODELS}),
    (r"models\.standardize$", ALL_MODELS),
    (r"models\.controls\.", {"design", *ALL_MODELS}),
    (r"models\.measures\.0$", {"resilience_report", *ALL_MODELS}),
    (r"models\.measures\.", {"resilience_report"}),
    (r"models\.spatial\.weights$", {"figures", *ALL_MODELS}),
    (r"models\.size_classes\.", {CROSS}),
    (r"models\.panel\.", {PANEL, SPANEL}),
    (r"models\.specs\.(baseline|robust_se|one_at_a_time|orthogonal|region|size|placebo|permutation|quality)\.",
     {CROSS}),
    (r"models\.specs\.(spatial|grid)\.", {CROSS, SPATIAL}),
    (r"models\.specs\.(panel|event_study|quality_panel)\.", {PANEL}),
    (r"models\.specs\.spatial_panel", {SPANEL}),
    (r"models\.specs\.moderation\.", {CROSS}),
    (r"models\.moderators\.", {CROSS}),
    (r"demo\.(n_rows|n_cols)$", {"*"}),                            # new synthetic cities: every stage
    (r"demo\.", {"panel"}),
]

# Another valid value where the generic change (flip, +1, ×1.1, text appended) would make the config invalid.
ALTERNATIVES = {
    "geography.source": "csmar_gdp",
}


def leaves(node, path=()):
    """(path, value) of every scalar in a nested config (list items by index)."""
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
        return value + "_edited" if value.startswith("http") else value + " (edited)"
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


def overlay_for(edited: dict, path: tuple[str, ...]) -> dict:
    """The smallest overlay that sets `path` as in `edited` (a list is replaced whole, as Snakemake merges)."""
    node, keys = edited, []
    for key in path:
        if isinstance(node, list):
            break
        keys.append(key)
        node = node[key]
    overlay = node
    for key in reversed(keys):
        overlay = {key: overlay}
    return overlay


def dag_jobs(root: Path, configfiles: list[Path]) -> dict:
    """{(rule, outputs): (params, inputs)} of every job of the forced DAG, as Snakemake evaluates them."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, DAGSettings, OutputSettings, ResourceSettings

    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        workflow_api = api.workflow(resource_settings=ResourceSettings(cores=1),
                                    config_settings=ConfigSettings(configfiles=configfiles),
                                    snakefile=root / "Snakefile", workdir=root)
        workflow = workflow_api.dag(dag_settings=DAGSettings()).workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True, nolock=True)
        workflow._build_dag()
        return {(job.rule.name, tuple(sorted(map(str, job.output)))):
                (repr(sorted(job.params.items())), tuple(sorted(map(str, job.input)))) for job in workflow.dag.jobs}


def rerun_rules(before: dict, after: dict) -> set[str]:
    """Rules with a job that is new or whose params or input files changed."""
    return {key[0] for key, value in after.items() if before.get(key) != value}


def expected_rules(dotted: str, rules: set[str], demo: bool) -> set[str]:
    for pattern, readers in READERS:
        if re.match(pattern, dotted):
            break
    else:
        raise AssertionError(f"{dotted}: no entry in READERS; say which rules read it")
    if "*" in readers:
        return {"*"}
    readers = {r.replace("?demo", "") for r in readers if demo or not r.endswith("?demo")}
    return {*readers, "manifest"}


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
    """The DAG with `path` set to `value` (through a minimal overlay, as a user's --configfile would)."""
    edited = copy.deepcopy(config)
    set_path(edited, path, value)
    overlay = Path(os.environ.get("TMPDIR", "/tmp")) / f"cityres_key_{os.getpid()}.yaml"
    overlay.write_text(yaml.safe_dump(overlay_for(edited, path), allow_unicode=True, sort_keys=False),
                       encoding="utf-8")
    return dag_jobs(root, [*base_files, overlay])


def check_key(args) -> tuple[str, str | None]:
    """Change one key in a copy of the config and compare the DAGs (run in a worker process). An edit the schema
    rejects is retried with another value its enum allows (the validation message lists them)."""
    root, base_files, base_jobs, config, path, demo = args
    dotted = ".".join(path)
    original = dict(leaves(config))[path]
    value = ALTERNATIVES[dotted] if dotted in ALTERNATIVES else changed(original)
    try:
        try:
            after = dag_of_edit(root, base_files, config, path, value)
        except BaseException as err:      # noqa: BLE001
            allowed = re.search(r"is not one of \[([^\]]*)\]", str(err))
            options = [o.strip(" '") for o in allowed.group(1).split(",")] if allowed else []
            value = next((o for o in options if o != original), None)
            if value is None:
                raise
            after = dag_of_edit(root, base_files, config, path, value)
    except BaseException as err:          # noqa: BLE001  (an invalid edit is a test problem to report)
        return dotted, f"the edit to {value!r} does not give a valid config (add an ALTERNATIVES entry): " \
                       f"{' '.join(str(err).split())[:300]}"
    try:
        readers = expected_rules(dotted, {k[0] for k in after}, demo)
    except AssertionError as err:
        return dotted, str(err)
    return dotted, check(readers, rerun_rules(base_jobs, after))


def walk(config: dict, base_files: list[Path], demo: bool, keys=None) -> list[str]:
    """Problems of every leaf key (or of `keys`), checked two at a time."""
    base_jobs = dag_jobs(ROOT, base_files)
    paths = [p for p, v in leaves(config) if v is not None and (keys is None or ".".join(p) in keys)]
    jobs = [(ROOT, base_files, base_jobs, config, path, demo) for path in paths]
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(check_key, jobs))
    return [f"{key}: {problem}" for key, problem in results if problem]


def test_every_config_key_reruns_exactly_its_readers():
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
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
