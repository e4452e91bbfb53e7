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


def test_imports_are_parsed_once_per_content_and_remembered_on_disk(tmp_path, monkeypatch):
    """The disk cache is keyed by content: a second process (cleared in-memory caches) reads the cache instead of
    parsing, and an edited file (new content) is parsed again."""
    import json

    import scripts.code_deps as deps

    module = tmp_path / "scripts" / "rules" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text("import scripts.common\n", encoding="utf-8")
    monkeypatch.setattr(deps, "ROOT", tmp_path)
    monkeypatch.setattr(deps, "IMPORTS_CACHE", tmp_path / ".snakemake" / "imports.json")
    parsed = []
    real_parse = deps._parsed_imports
    monkeypatch.setattr(deps, "_parsed_imports", lambda text, path: parsed.append(path.name) or real_parse(text, path))

    def fresh_process_imports():
        for cached in (deps._known_imports, deps._imports_of_version):
            cached.cache_clear()
        return deps._imports(module)

    try:
        assert fresh_process_imports() == {"scripts.common"} and parsed == ["probe.py"]
        assert fresh_process_imports() == {"scripts.common"} and parsed == ["probe.py"]   # from the disk cache
        assert len(json.loads(deps.IMPORTS_CACHE.read_text(encoding="utf-8"))) == 1
        module.write_text("import scripts.weights\n", encoding="utf-8")
        assert fresh_process_imports() == {"scripts.weights"} and parsed == ["probe.py", "probe.py"]
    finally:
        for cached in (deps._known_imports, deps._imports_of_version):
            cached.cache_clear()
