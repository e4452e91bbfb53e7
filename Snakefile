# cityres: does a city's position in the inter-city network make its economy more resilient?
# Run: snakemake --cores N   (demo: add --configfile workflow/demo.yaml). See README.md.
#
# Configuration flows one way: each rule passes its entry point (scripts/rules/<rule>.py) exactly the
# configuration it uses, as named params, and the entry points never read the config object. Snakemake's params
# trigger then reruns exactly the rules whose configuration changed (tests/test_config_keys.py proves it key by key).
import hashlib
import json
import os
import re
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, update_config

min_version("9.0")

# Snakemake compares each job's params with its record through a serializer that imports pandas whenever pandas is
# installed, to hash DataFrame params; every param here is a plain value (dicts, lists, strings, numbers), for which
# the builtin serializer gives the same record. Using it spares each start the pandas import: ≈ 0.4 s of a 2.4 s
# no-op rerun (Snakemake 9.27's PersistenceBase; the params trigger is tested in tests/test_workflow.py).
from snakemake.persistence import PersistenceBase  # noqa: E402

PersistenceBase._serialize_param = property(lambda self: self._serialize_param_builtin)

sys.path.insert(0, workflow.basedir)
from scripts import warm  # noqa: E402
from scripts.code_deps import imported_files  # noqa: E402
from scripts.common import InputError  # noqa: E402
from scripts.config import load_yaml, repeated_configfile_flags, report_outcome, validate_config  # noqa: E402
from scripts.registry import MEASURES  # noqa: E402
from scripts.specs import WEIGHTS_SAMPLE_KEYS, expand_specs  # noqa: E402

OVERLAYS = repeated_configfile_flags(sys.argv) if os.path.basename(sys.argv[0]) == "snakemake" else []
if OVERLAYS:
    raise WorkflowError(
        f"--configfile is given {len(OVERLAYS)} times ({'; '.join(OVERLAYS)}): Snakemake would keep only the last "
        f"and ignore the others. Name every overlay after one flag: --configfile {' '.join(OVERLAYS)}"
    )
# What the `configfile: "config.yaml"` directive does (Snakemake 9's Workflow.configfile), with the file read by
# libyaml: Snakemake's pure-Python loader took ≈ 15× as long, a tenth of a no-op run. A syntax error names the file,
# line and column. The command line's overlays (--configfile, --config) then go on top, or replace it all.
try:
    CONFIG_FILE = load_yaml(os.path.join(workflow.basedir, "config.yaml"))
except InputError as err:
    raise WorkflowError(str(err)) from None
workflow.configfiles.append("config.yaml")
OVERWRITE = workflow.config_settings.overwrite_config
if not (OVERWRITE and workflow.config_settings.replace_workflow_config):
    update_config(config, CONFIG_FILE)
update_config(config, OVERWRITE)


report: "workflow/report/workflow.rst"


try:
    validate_config(config)
except InputError as err:
    raise WorkflowError(str(err)) from None

RUN = f"results/{config['run']}"
STORE = "data/raw"  # the raw-data cache: filled and read by retrieval, no rule's output (never deleted)
SHARED = "results/shared"  # stages shared between runs, one folder per configuration (stage_folder)
# Every shared stage this run reads → its folder (filled by stage_folder; the manifest lists them).
STAGES = {}
DEMO = config["demo"]["enabled"]
NETWORKS = [name for name, spec in config["network"].items() if spec.get("enabled", True)]
WEIGHTS = list(config["weights"])
MODELS = config["models"]
MODEL_NET = MODELS["network"]
SPECS = expand_specs(MODELS)
TABLE_MODELS = config["report"]["main_table"]
HEADLINE = config["report"].get("headline_measure", "drop")
MAIN_SHOCK = config["resilience"].get("name", "covid_2020")  # the main shock's name (schema default)
# The built-in crosswalk, then the user's (config user_crosswalk), merged by scripts.crosswalk.load_crosswalks.
CROSSWALKS = ["data/crosswalk/city_codes.csv", *([config["user_crosswalk"]] if config.get("user_crosswalk") else [])]
# Keys that document data for people (and the manifest): no computation reads them.
DOC_KEYS = ("description", "unit", "license", "citation")


def external_files():
    """(config key, path) of every file a result depends on that no rule makes: users' exports, edge lists,
    distance files, the crosswalk."""
    files = [("data/crosswalk/city_codes.csv (the crosswalk)", CROSSWALKS[0])]
    if config.get("user_crosswalk"):
        files.append(("user_crosswalk", config["user_crosswalk"]))
    if not DEMO:
        for name, spec in config["sources"].items():
            files += [(f"sources.{name}.files.{k}.path", f["path"]) for k, f in enumerate(spec["files"]) if "path" in f]
    for name in NETWORKS:
        spec = config["network"][name]
        if spec["kind"] == "edges":
            files.append((f"network.{name}.path", spec["path"]))
        if spec.get("distance_file"):
            files.append((f"network.{name}.distance_file.path", spec["distance_file"]["path"]))
    return files


MISSING = [f"  - {key}: {path}" for key, path in external_files() if not os.path.isfile(path)]
if MISSING:
    raise WorkflowError(
        "files named in the configuration do not exist (nothing was run):\n"
        + "\n".join(MISSING)
        + "\nCorrect the path in config.yaml (or your overlay) or put the file there."
    )


def stage_folder(stage, *settings):
    """``results/shared/<stage>/<key>``: the folder of a stage that runs share (retrieval and panel, each network,
    each network's centralities, the weights, the quality flags and analysis panel, the resilience measures,
    Moran's I). The key is the first 12 hex digits of the SHA-256 of the settings the stage's rules compute with
    (their params, the crosswalk files) and of the folders of the stages they read, so a run whose configuration
    gives the same settings reuses the folder, and any edit to them writes a new one. Within a folder Snakemake's
    triggers (code, input files, params) keep the files current as for any output. The folder is recorded in
    STAGES."""
    text = json.dumps(settings, sort_keys=True, default=str)
    STAGES[stage] = f"{SHARED}/{stage}/{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    return STAGES[stage]


def entry(rule_name):
    """The rule's entry point, relative to the .smk files."""
    return f"../../scripts/rules/{rule_name}.py"


def code(rule_name):
    """The project modules the rule's entry point imports: editing one reruns the rules that use it."""
    return list(imported_files(f"scripts/rules/{rule_name}.py"))


def undocumented(section):
    """A config section of named entries without the keys that only document them (DOC_KEYS)."""
    return {name: {k: v for k, v in spec.items() if k not in DOC_KEYS} for name, spec in section.items()}


def pick(mapping, *keys):
    """The named keys of a mapping (those present), in the given order."""
    return {key: mapping[key] for key in keys if key in mapping}


def variable_names():
    """Names of every configured and derived variable (what the demo generates and quality checks)."""
    return [*config["variables"], *config.get("derived", {})]


def city_names(labels=True):
    """The report keys that decide how city names are drawn in figures (with ``labels``, how many a map names)."""
    return pick(config["report"], "city_names", "cjk_font", *(["label_cities"] if labels else []))


def weights_in_sample(name):
    """What re-selecting a weights matrix on an estimation sample reads (scripts.weights.sample_weights)."""
    return pick(config["weights"][name], *WEIGHTS_SAMPLE_KEYS)


# Scheduling priority (Snakemake runs the ready job of highest priority first), by the longest path from a job to
# the end of the run: the chain every model waits for, then the models and Moran's I, then the long report jobs and
# those that gate the report; the short ones (priority 0) fill idle cores. Without it a centrality job waited 20 s
# behind report figures while the models waited for it.
PRIORITY = {"stage": 3, "model": 2, "summary": 1}


# The jobs of a local run execute in forks of one process that has imported the heavy libraries once
# (scripts/warm.py; CITYRES_WARM=0 runs them cold). Snakemake calls these hooks in real runs only, not in dry runs.
onstart:
    if workflow.local_exec:
        warm.start(".snakemake/cityres_warm.log")


onsuccess:
    warm.stop()


onerror:
    warm.stop()


wildcard_constraints:
    net="[A-Za-z0-9_-]+",
    key="[0-9a-f]+",  # stage_folder keys
    spec="|".join(SPECS) or "none",


include: "workflow/rules/panel.smk"
include: "workflow/rules/network.smk"
include: "workflow/rules/quality.smk"
include: "workflow/rules/resilience.smk"
include: "workflow/rules/weights.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/hypotheses.smk"


def every_output():
    """Every file a job of this config writes (the manifest aside), and the first file of each job. As targets of
    rule all the files make a deleted intermediate rebuilt: Snakemake otherwise leaves a missing file alone while
    the files made from it are current. The manifest waits for one file per job (a job writes all its files at
    once): listing every file there too doubled each start's file-to-job lookups."""
    values = {"net": NETWORKS, "spec": list(SPECS)}
    keyed = {"network": NETWORK_DIRS, "centrality": CENTRALITY_DIRS}  # rules whose folder key varies by network
    files, firsts = set(), set()
    for rule in workflow.rules:
        if rule.name != "all":
            for k, pattern in enumerate(rule.output):  # without the wildcard constraints Snakemake has added
                plain = re.sub(r"\{(\w+),[^}]*\}", r"{\1}", str(pattern))
                if rule.name in keyed:
                    folders = keyed[rule.name]
                    keys = [folder.rsplit("/", 1)[1] for folder in folders.values()]
                    made = expand(plain, zip, net=list(folders), key=keys)
                else:
                    made = expand(plain, **{name: values[name] for name in rule.wildcard_names})
                files.update(made)
                if k == 0:
                    firsts.update(made)
    return sorted(files), sorted(firsts)


include: "workflow/rules/export.smk"  # labels every table found above


ALL_OUTPUTS, JOB_OUTPUTS = every_output()


include: "workflow/rules/manifest.smk"


rule all:
    default_target: True
    input:
        ALL_OUTPUTS,
        rules.manifest.output,
