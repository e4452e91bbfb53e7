"""Each rule depends on the project modules its entry point really imports (scripts/code_deps.py)."""
import re

from scripts.code_deps import imported_files


def test_figures_depend_on_the_figure_modules_not_on_the_estimators():
    files = imported_files("scripts/rules/figures.py")
    assert {"scripts/figures.py", "scripts/render.py", "scripts/registry.py", "scripts/common.py",
            "scripts/__init__.py"} <= set(files)
    assert not [f for f in files if f.startswith("scripts/estimation/")]


def test_models_depend_on_every_estimation_module_they_import_transitively():
    files = set(imported_files("scripts/rules/models.py"))
    expected = {f"scripts/estimation/{m}.py" for m in ("__init__", "fit", "design", "cross_section", "spatial",
                                                       "panel", "spatial_panel", "results")}
    assert expected <= files
    assert "scripts/weights.py" in files           # imported inside a function (sample_weights)
    assert "scripts/figures.py" not in files and "scripts/rules/models.py" not in files


def test_every_entry_point_is_the_script_of_a_rule():
    from tests.conftest import ROOT

    rules_text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    entries = {p.stem for p in (ROOT / "scripts" / "rules").glob("*.py") if p.stem != "__init__"}
    assert entries == set(re.findall(r'entry\("(\w+)"\)', rules_text))
