# cityres: does a city's position in the inter-city network make its economy more resilient?
# Run: snakemake --cores N   (demo: add --configfile workflow/demo.yaml). See README.md.
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

configfile: "config.yaml"


report: "workflow/report/workflow.rst"

sys.path.insert(0, workflow.basedir)
from scripts.common import InputError  # noqa: E402
from scripts.config import validate_config  # noqa: E402
from scripts.specs import expand_specs  # noqa: E402

try:
    validate_config(config)
except InputError as err:
    raise WorkflowError(str(err)) from None

RUN = f"results/{config['run']}"
# Every rule depends on the project's Python modules, so a change in a shared helper reruns what uses it.
HELPERS = sorted(glob_wildcards("scripts/{module}.py").module)
HELPERS = [f"scripts/{module}.py" for module in HELPERS]


def config_slice(*keys):
    """The config keys a rule depends on, passed as params so that editing them reruns the rule."""
    return {key: config.get(key) for key in keys}


def city_name_settings():
    """The report keys that decide how city names are drawn in figures."""
    return {key: config["report"].get(key) for key in ("city_names", "cjk_font", "label_cities")}


def models_core():
    """The model settings that figures and Moran's I depend on (not the spec list)."""
    return {key: config["models"][key] for key in ("outcome", "network", "centrality_year", "centralities", "controls")}


RAW = "data/raw"
DEMO = config["demo"]["enabled"]
NETWORKS = [name for name, spec in config["network"].items() if spec.get("enabled", True)]
WEIGHTS = list(config["weights"])
MODEL_NET = config["models"]["network"]
SPECS = expand_specs(config["models"])
TABLE_MODELS = config["report"]["main_table"]

wildcard_constraints:
    net="[A-Za-z0-9_-]+",
    w="[A-Za-z0-9_-]+",
    spec="|".join(SPECS) or "none",


include: "workflow/rules/panel.smk"
include: "workflow/rules/network.smk"
include: "workflow/rules/weights.smk"
include: "workflow/rules/quality.smk"
include: "workflow/rules/resilience.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/hypotheses.smk"


FINAL_TARGETS = [
    f"{RUN}/attrition.csv",
    *expand(f"{RUN}/weights/{{w}}.summary.json", w=WEIGHTS),
    *expand(f"{RUN}/weights/{{w}}.moran.csv", w=WEIGHTS),
    *rules.network_report.output,
    *rules.resilience_report.output,
    *rules.quality.output,
    *rules.report.output,
    *rules.spec_curve.output,
    *rules.tables.output,
    *rules.figures.output,
    *rules.evidence.output,
]

include: "workflow/rules/manifest.smk"


rule all:
    input:
        FINAL_TARGETS,
        rules.manifest.output,
    default_target: True
