"""Config validation: typos, wrong types, missing keys and dangling references name the key path."""
import re

import pytest

from scripts.common import InputError
from scripts.config import validate_config
from tests.conftest import ROOT, validation_message


def test_default_config_is_valid(config):
    validate_config(config)


def test_unknown_key_is_named(config):
    config["resilience"]["shock_yaer"] = 2020
    with pytest.raises(InputError, match=r"resilience: unknown key.*shock_yaer"):
        validate_config(config)


def test_wrong_type_is_named(config):
    config["network"]["gravity"]["distance_decay"] = "two"
    with pytest.raises(InputError, match=r"network/gravity/distance_decay: 'two' is not of type 'number'"):
        validate_config(config)


def test_missing_value_is_named(config):
    del config["sources"]["csmar_gdp"]["files"][0]["sha256"]
    with pytest.raises(InputError, match=r"sources/csmar_gdp/files/0"):
        validate_config(config)


def test_dangling_reference_is_named(config):
    config["models"]["controls"][0]["variable"] = "popualtion"
    with pytest.raises(InputError, match=r"models/controls/0/variable: 'popualtion'"):
        validate_config(config)


def test_demo_overlay_is_valid(config):
    import yaml
    from snakemake.utils import update_config

    from tests.conftest import ROOT

    update_config(config, yaml.safe_load((ROOT / "workflow" / "demo.yaml").read_text(encoding="utf-8")))
    assert config["network"]["baidu_flows"]["kind"] == "flows" and not config["network"]["baidu_flows"]["enabled"]
    validate_config(config)


def test_spec_naming_unknown_measure_or_table_model_is_named(config):
    config["models"]["specs"]["baseline"]["measure"] = ["drop", "recovry"]
    config["report"]["main_table"] = ["baseline-drop", "nonexistent"]
    with pytest.raises(InputError) as err:
        validate_config(config)
    assert "baseline (baseline-recovry): measure 'recovry'" in str(err.value)
    assert "report/main_table: 'nonexistent'" in str(err.value)


def test_a_grid_above_the_job_cap_needs_confirmation(config):
    config["models"]["specs"]["huge"] = {"estimator": ["sar", "sem", "sdm"], "measure": ["drop", "recovery"],
                                         "network": ["gravity", "gravity_directed", "gravity_top10"],
                                         "weights": ["queen", "rook", "knn6", "distance_300km"],
                                         "shock_year": [2016, 2017, 2018]}       # 216 specs
    with pytest.raises(InputError, match=r"expand to \d+ model jobs, more than models.max_specs = 200 "
                                         r"\(largest groups: huge: 216.*confirm_large_grid: true"):
        validate_config(config)
    config["models"]["confirm_large_grid"] = True
    validate_config(config)


@pytest.mark.parametrize("key,value", [("bias_correction", "lee_yu"), ("effects", "entity")])
def test_spatial_panel_options_only_for_spatial_panels(config, key, value):
    config["models"]["specs"]["baseline"][key] = value
    with pytest.raises(InputError, match=rf"baseline \(baseline-drop\): {key} applies to spatial panels only "
                                         r"\(panel_sar, panel_sem, panel_sdm\)"):
        validate_config(config)


def test_random_effects_take_no_lee_yu_correction(config):
    config["models"]["specs"]["spatial_panel_lee_yu"]["effects"] = "random"
    with pytest.raises(InputError, match=r"spatial_panel_lee_yu \(spatial_panel_lee_yu-panel_sar\): bias_correction "
                                         r"lee_yu is a fixed-effects transformation"):
        validate_config(config)


def test_a_list_of_effects_expands_into_named_specs(config):
    from scripts.specs import expand_specs

    config["models"]["specs"]["fx"] = {"estimator": "panel_sdm", "effects": ["entity", "time"], "network": "gravity_resident"}
    validate_config(config)
    specs = expand_specs(config["models"])
    assert specs["fx-entity"]["effects"] == "entity" and specs["fx-time"]["effects"] == "time"


def test_validation_imports_no_estimation_code():
    """Validating a config (every Snakemake start) loads the registry, not spreg, linearmodels or statsmodels."""
    import subprocess
    import sys

    code = ("import sys, yaml; from scripts.config import validate_config; "
            "validate_config(yaml.safe_load(open('config.yaml', encoding='utf-8'))); "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('spreg', 'linearmodels', 'statsmodels', 'libpysal')"
            " or m.startswith('scripts.estimation')]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_schema_enums_come_from_the_registries():
    from scripts.config import load_schema
    from scripts.registry import COVARIANCES, ESTIMATORS, MEASURES

    schema = load_schema()
    assert schema["$defs"]["estimator"]["enum"] == list(ESTIMATORS)
    assert schema["$defs"]["cov"]["enum"] == list(COVARIANCES)
    assert schema["properties"]["resilience"]["properties"]["measures"]["items"]["enum"] == list(MEASURES)


def test_headline_measure_must_be_a_computed_per_outcome_measure(config):
    config["report"]["headline_measure"] = "resistance_shift_share"
    with pytest.raises(InputError, match="report/headline_measure: 'resistance_shift_share' must be one of"):
        validate_config(config)
    config["report"]["headline_measure"] = "recovery"
    validate_config(config)


@pytest.mark.parametrize("run", ["..", ".", ".hidden", "shared"])
def test_a_run_name_that_leaves_results_or_takes_the_shared_stages_folder_is_refused(config, run):
    config["run"] = run
    with pytest.raises(InputError, match=rf"run: '{re.escape(run)}' is not allowed here: Name of the run"):
        validate_config(config)
    config["run"] = "shared_2"          # only the exact name is taken
    validate_config(config)


@pytest.mark.parametrize("url", ["https://host/../../../../x.txt", "https://host/a/./b.csv", "https://host/a/.."])
def test_a_source_url_with_dot_segments_is_refused(config, url):
    config["sources"]["covid"]["files"][0]["url"] = url
    with pytest.raises(InputError, match=r"sources/covid/files/0/url: .* no path segment may be \. or \.\."):
        validate_config(config)


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    from scripts.config import load_yaml

    broken = tmp_path / "overlay.yaml"
    broken.write_text("run: mine\nmodels:\n  measures: [drop, recovery\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"overlay.yaml, line 4, column 1: not valid YAML \(did not find expected"):
        load_yaml(broken)


def test_config_check_command_reports_broken_and_valid_overlays(tmp_path, capsys):
    from scripts.config import cli

    broken = tmp_path / "broken.yaml"
    broken.write_text("run: mine\n  seed: 1\n", encoding="utf-8")
    assert cli(["check", str(broken)]) == 1
    assert "broken.yaml, line 2, column 7" in capsys.readouterr().err
    assert cli(["check", str(ROOT / "workflow" / "demo.yaml")]) == 0


def test_a_repeated_configfile_flag_is_found():
    from scripts.config import repeated_configfile_flags

    assert repeated_configfile_flags(["snakemake", "--configfile", "a.yaml", "b.yaml", "-n"]) == []
    assert repeated_configfile_flags(["snakemake", "--configfile", "a.yaml", "--cores", "2", "--configfiles=b.yaml"]) \
        == ["a.yaml", "b.yaml"]


def test_panel_shocks_and_shock_names_are_checked(config):
    config["resilience"]["shocks"]["sars_2003"] = {"shock_year": 2003, "recovery_year": 2004}
    config["models"]["panel"]["shocks"] = ["omicron_2022", "delta_2021", "sars_2003"]
    config["resilience"]["name"] = "omicron_2022"
    config["models"]["specs"]["baseline"]["panel_centralities"] = "pre_shock"
    message = validation_message(config)
    assert "models/panel/shocks: 'delta_2021' is not a key of resilience.shocks" in message
    assert "models/panel/shocks: 'sars_2003' (2003) must come after the main shock" in message
    assert "resilience/name: 'omicron_2022' is also a key of resilience.shocks" in message
    assert "(baseline-drop): panel_centralities applies to panel_fe specs only" in message


def test_moderators_name_existing_variables_networks_and_measures(config):
    moderators = config["models"]["moderators"]
    moderators["capital"]["variable"] = "financial_dept"
    moderators["tie_degree"]["network"] = "gravity_top5"
    moderators["tie_clustering"]["measure"] = "clustring"
    config["models"]["specs"]["spatial_panel"]["moderator"] = "concentration"
    message = validation_message(config)
    assert "models/moderators/capital/variable: 'financial_dept' is not a variable" in message
    assert "models/moderators/tie_degree/network: 'gravity_top5' is not a key of network" in message
    assert "models/moderators/tie_clustering/measure: network 'gravity_top10' has no 'clustring'" in message
    assert "(spatial_panel-panel_sar): a moderator applies to cross-section, spatial and panel_fe specs" in message


def test_a_moderator_is_a_variable_or_a_network_measure_not_both(config):
    config["models"]["moderators"]["capital"]["network"] = "gravity"
    with pytest.raises(InputError, match=r"models/moderators/capital"):
        validate_config(config)


def test_the_snakefile_layers_config_yaml_and_the_command_line_as_snakemake_does(tmp_path):
    """config.yaml is read by the Snakefile itself (libyaml); the command line still goes on top (--configfile, then
    --config), and --replace-workflow-config still drops config.yaml, as Snakemake's configfile directive does."""
    from tests.workflow_support import copy_project, snakemake

    work = copy_project(tmp_path)
    (work / "mine.yaml").write_text("run: from_overlay\n", encoding="utf-8")
    overlaid = snakemake(work, "-n", "--configfile", "workflow/demo.yaml", "mine.yaml")
    assert overlaid.returncode == 0 and "results/from_overlay/models/" in overlaid.stdout, overlaid.stderr[-2000:]
    # the header lists the overlays, then config.yaml, as Snakemake's configfile directive did
    listed = r"Config file\(s\): \[.*demo\.yaml'\), PosixPath\('.*mine\.yaml'\), 'config\.yaml'\]"
    assert re.search(listed, overlaid.stdout)
    cli = snakemake(work, "-n", "--configfile", "workflow/demo.yaml", "mine.yaml", "--config", "run=from_cli")
    assert cli.returncode == 0 and "results/from_cli/models/" in cli.stdout, cli.stderr[-2000:]
    replaced = snakemake(work, "-n", "--replace-workflow-config", "--configfile", "mine.yaml")
    assert replaced.returncode != 0
    assert "'models' is a required property" in replaced.stdout + replaced.stderr, replaced.stderr[-2000:]
    (work / "config.yaml").write_text("run: real\nseed: [1, 2\n", encoding="utf-8")
    broken = snakemake(work, "-n")
    assert broken.returncode != 0 and "config.yaml, line 3, column 1: not valid YAML" in broken.stdout + broken.stderr
