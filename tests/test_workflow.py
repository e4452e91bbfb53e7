"""Workflow tests: Snakemake end to end on the demo and on the real data (mirror), in temporary copies."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from scripts.retrieve import source_files
from tests.conftest import ROOT, require_mirror

PROJECT_ITEMS = ["Snakefile", "config.yaml", "requirements.txt", "workflow", "scripts", "data/crosswalk"]
COMPARED_SUFFIXES = {".parquet", ".csv", ".json", ".md", ".tex", ".html", ".png", ".pdf"}


def copy_project(target: Path) -> Path:
    for item in PROJECT_ITEMS:
        source = ROOT / item
        if source.is_dir():
            shutil.copytree(source, target / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (target / item).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target / item)
    return target


def snakemake(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=workdir,
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=900)


def result_files(run_dir: Path) -> dict[str, bytes]:
    """The run's result files and those of the shared stages (results/shared), by path under results/."""
    results = run_dir.parent
    return {str(p.relative_to(results)): p.read_bytes()
            for folder in (run_dir, results / "shared") for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix in COMPARED_SUFFIXES and "logs" not in p.parts and "benchmarks" not in p.parts
            and p.name != "report.html"}  # Snakemake's report embeds its creation time


def stage_path(run_dir: Path, stage: str, name: str) -> Path:
    """A file of a shared stage the run read, e.g. stage_path(run, "data", "panel.parquet") (MANIFEST.json stages)."""
    stages = json.loads((run_dir / "MANIFEST.json").read_text(encoding="utf-8"))["stages"]
    return run_dir.parent.parent / stages[stage] / name


def coefficient(model: dict, term: str) -> dict:
    return next(c for c in model["coefficients"] if c["term"] == term)


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """Two clean runs of the demo in separate directories."""
    runs = []
    for name in ("first", "second"):
        work = copy_project(tmp_path_factory.mktemp(name))
        done = snakemake(work, "--configfile", "workflow/demo.yaml", env={"CITYRES_MIRROR": ""})
        assert done.returncode == 0, done.stderr[-4000:]
        runs.append(work / "results" / "demo")
    return runs


def test_demo_recovers_planted_effects(demo_runs):
    """Every planted coefficient lies in its model's interval, jointly: the 27 terms are checked at a family-wise
    95 % level (Bonferroni, estimate ± z_{1 − 0.05/(2·27)}·se), since 27 separate 95 % intervals would miss one in
    three runs of a correct estimator (per-term coverage over many seeds is tests/test_coverage.py's job)."""
    from scipy.stats import norm

    run = demo_runs[0]
    truth = json.loads(stage_path(run, "data", "demo_truth.json").read_text())
    checks = []
    for model_name, key in (("baseline-drop", "effects_per_sd"), ("spatial-sar", "effects_per_sd"),
                            ("spatial-sdm", "effects_per_sd"), ("baseline-recovery", "recovery_effects_per_sd")):
        model = json.loads((run / "models" / f"{model_name}.json").read_text())
        checks += [(model_name, term, beta, coefficient(model, term)) for term, beta in truth[key].items()]
    second = truth["named_shock_effects_per_sd"]["omicron_2022"]   # the second shock, planted with reversed signs
    model = json.loads((run / "models" / "omicron-drop.json").read_text())
    checks += [("omicron-drop", term, beta, coefficient(model, term)) for term, beta in second.items()]
    assert all(coefficient(model, term)["estimate"] * beta > 0 for term, beta in second.items())
    event_study = json.loads((run / "models" / "event_study.json").read_text())
    checks += [("event_study", term, beta, coefficient(event_study, term))
               for term, beta in truth["event_study_effects_pp"].items()]
    z = norm.ppf(1 - 0.05 / (2 * len(checks)))
    missed = [(name, term, beta, c["estimate"], c["se"]) for name, term, beta, c in checks
              if abs(c["estimate"] - beta) > z * c["se"]]
    assert len(checks) == 27 and not missed, missed


def test_demo_evidence_verdicts_follow_the_planted_signs(demo_runs):
    import pandas as pd

    both = pd.read_csv(demo_runs[0] / "tables" / "evidence.csv").set_index(["shock", "hypothesis"])["verdict"]
    evidence, omicron = both["covid_2020"], both["omicron_2022"]
    # planted: DC +0.02, CC −0.01, BC +0.015 per SD on the drop (half on recovery); the hypotheses expect "+"
    assert evidence[["H1a", "H1b", "H3a", "H3b"]].eq("supported").all()
    assert evidence[["H2a", "H2b"]].eq("contradicted").all()
    assert evidence["H5a"] == "not supported"        # synthetic moderator, no planted interaction
    assert evidence["H5b"] == "inactive"
    # the second shock is planted with the effects reversed: its own evidence rows turn round
    assert omicron[["H1a", "H1b", "H3b"]].eq("contradicted").all() and omicron["H2b"] == "supported"
    estimates = pd.read_csv(demo_runs[0] / "tables" / "evidence_estimates.csv")
    assert estimates["file"].str.startswith("results/demo/models/").all()


def test_demo_outputs_are_labelled_and_complete(demo_runs):
    run = demo_runs[0]
    assert "SYNTHETIC DEMO DATA" in (run / "tables" / "regression.md").read_text()
    for name in ("figures/map_drop.png", "figures/scatter_centrality_drop.png", "tables/regression.tex",
                 "tables/regression.csv", "tables/model_attrition.md"):
        assert (run / name).stat().st_size > 0, name
    for stage, name in (("weights", "queen.summary.json"), ("centrality/gravity", "centrality.parquet")):
        assert stage_path(run, stage, name).stat().st_size > 0, name


def test_demo_resilience_profile_ranks_weights_and_screening(demo_runs):
    """The composite is ranked with intervals and probabilities for both shocks, each draw puts exactly k cities in
    the top k (so the probabilities sum to k), the composite is a model outcome, and screening finds the planted
    shocks: the demo plants falls in 2020 and 2022 only, on the models' outcome."""
    run = demo_runs[0]
    ranking = pd.read_csv(run / "tables" / "resilience_ranking.csv", dtype={"city_code": str})
    composite = ranking[(ranking["outcome"] == "real_gdp") & (ranking["measure"] == "composite")]
    assert set(composite["shock"]) == {"covid_2020", "omicron_2022"} and composite["value"].between(0, 100).all()
    assert composite[["rank_low", "rank_high", "p_top", "p_bottom"]].notna().all().all()
    assert (composite["rank_low"] <= composite["rank_high"]).all()
    for _, part in composite.groupby("shock"):
        assert part["p_top"].sum() == pytest.approx(part["k"].iloc[0], abs=0.01)
        assert part["p_bottom"].sum() == pytest.approx(part["k"].iloc[0], abs=0.01)
    model = json.loads((run / "models" / "profile-composite.json").read_text())
    assert model["spec"]["measure"] == "composite" and model["n"] > 0.9 * len(composite) / 2
    weights = pd.read_csv(run / "tables" / "resilience_weights.csv")
    assert {"without_depth", "without_transformation", "random", "loss_only"} <= set(weights["weight_set"])
    assert weights["spearman"].between(-1, 1).all()
    screened = pd.read_csv(run / "tables" / "resilience_screening.csv").set_index(["outcome", "year"])["screened"]
    gdp = screened["real_gdp"]
    assert gdp[2020] > 0 and gdp[2022] > 0 and gdp.drop([2020, 2022]).eq(0).all()


def test_exports_open_in_stata_readers_and_every_column_has_a_label(demo_runs):
    run = demo_runs[0]
    codebook = pd.read_csv(run / "export" / "codebook.csv")
    for name in ("panel", "design", "resilience"):
        back = pd.read_stata(run / "export" / f"{name}.dta")
        with pd.io.stata.StataReader(run / "export" / f"{name}.dta") as reader:
            labels = reader.variable_labels()
        assert back.shape == pd.read_parquet(run / "export" / f"{name}.parquet").shape
        entries = codebook[codebook["file"] == f"{name}.dta / {name}.parquet"]
        assert list(entries["column"]) == list(back.columns) and all(labels[c] for c in back.columns)
    assert "concentration" in set(codebook["column"])                          # the moderator is a model variable
    assert labels["measure"].startswith("Resilience measure")
    tables = pd.read_csv(run / "tables" / "codebook.csv")
    for path in (run / "tables").glob("*.csv"):
        if path.name != "codebook.csv":
            columns = list(pd.read_csv(path, nrows=0).columns)
            assert list(tables.loc[tables["file"] == path.name, "column"]) == columns, path.name
    assert tables["label"].notna().all()


def test_manifest_verify_names_an_edited_file_and_the_command_that_rebuilds_it(demo_runs, tmp_path):
    run = demo_runs[0]
    manifest = json.loads((run / "MANIFEST.json").read_text())
    made = {o["path"]: o for o in manifest["outputs"]}
    assert made["results/demo/tables/regression.md"]["rule"] == "report"
    assert manifest["rules"]["report"]["script"] == "scripts/rules/report.py"
    assert not any(o.get("stale") for o in manifest["outputs"])
    verify = [sys.executable, "-m", "scripts.manifest", "verify", "results/demo/MANIFEST.json"]
    work = run.parent.parent
    assert subprocess.run(verify, cwd=work, capture_output=True, text=True).returncode == 0
    table = run / "tables" / "regression.csv"
    original = table.read_bytes()
    table.write_bytes(original.replace(b"0.", b"9.", 1))
    try:
        done = subprocess.run(verify, cwd=work, capture_output=True, text=True)
        assert done.returncode == 1 and "results/demo/tables/regression.csv: SHA-256 differs" in done.stdout
        assert "snakemake --cores N --forcerun report" in done.stdout and "0 inputs checked" in done.stdout
        laundering = snakemake(work, "--configfile", "workflow/demo.yaml")  # a plain rerun must not hash the edit
        assert laundering.returncode != 0
        assert ("1 output(s) differ from what their rule wrote (edited after the run?): "
                "results/demo/tables/regression.csv (rule report)") in laundering.stderr
        assert subprocess.run(verify, cwd=work, capture_output=True, text=True).returncode != 0
        rebuilt = snakemake(work, "--configfile", "workflow/demo.yaml", "--forcerun", "report")   # the advice
        assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
        assert table.read_bytes() == original       # the edit is gone, not laundered into the manifest
        assert subprocess.run(verify, cwd=work, capture_output=True, text=True).returncode == 0
    finally:
        table.write_bytes(original)


def test_trace_walks_an_output_back_to_its_inputs_and_params(demo_runs):
    work = demo_runs[0].parent.parent
    done = subprocess.run([sys.executable, "-m", "scripts.manifest", "trace", "results/demo/MANIFEST.json",
                           "results/demo/tables/regression.csv"], cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("results/demo/tables/regression.csv sha256 ")
    assert "  made by rule report (script scripts/rules/report.py)" in lines
    for expected in ("net=gravity] (script scripts/rules/centrality.py)",
                     'param network = {"distance_decay": 2.0, "kind": "gravity"',
                     "input data/crosswalk/city_codes.csv sha256",
                     "made by rule models_cross_section_1"):
        assert any(expected in line for line in lines), expected
    manifest = json.loads((demo_runs[0] / "MANIFEST.json").read_text())
    assert not any("<function" in str(job["inputs"]) for job in manifest["jobs"])
    assert [o["path"] for o in manifest["overlays"]] == ["workflow/demo.yaml"] and manifest["overlays"][0]["sha256"]


def test_a_deleted_intermediate_is_rebuilt_and_two_configfile_flags_are_refused(demo_runs, tmp_path):
    work = demo_runs[1].parent.parent
    weights = stage_path(demo_runs[1], "weights", "knn6.parquet")
    weights.rename(tmp_path / "knn6.parquet")
    try:
        plan = snakemake(work, "-n", "--configfile", "workflow/demo.yaml")
        missing = f"Missing output files: {weights.relative_to(work).as_posix()}"
        assert plan.returncode == 0 and missing in plan.stdout, plan.stdout[-3000:]
    finally:
        (tmp_path / "knn6.parquet").rename(weights)
    (work / "mine.yaml").write_text("run: mine\n", encoding="utf-8")
    command = [str(Path(sys.executable).parent / "snakemake"), "-n", "--configfile", "workflow/demo.yaml",
               "--configfile", "mine.yaml"]  # the command-line program: the check reads its arguments
    twice = subprocess.run(command, cwd=work, capture_output=True, text=True)
    assert twice.returncode != 0
    assert "--configfile is given 2 times (workflow/demo.yaml; mine.yaml)" in twice.stdout + twice.stderr


def test_an_edited_edge_list_reruns_its_network(demo_runs, tmp_path):
    """A user's edge list is a declared input: editing it reruns the network built from it (mtime trigger only, so
    that adding the network to the config does not rerun the demo's panel in this test)."""
    work = demo_runs[1].parent.parent
    edges = tmp_path / "edges.csv"
    edges.write_text("source,target,weight\n910000,910001,1.0\n910001,910002,2.0\n910002,910000,1.5\n",
                     encoding="utf-8")
    overlay = tmp_path / "mine.yaml"
    overlay.write_text(f"network:\n  mine: {{kind: edges, path: {edges}, year: 2019, "
                       "columns: {source: source, target: target, weight: weight}}\n", encoding="utf-8")
    args = ["--configfile", "workflow/demo.yaml", str(overlay), "--rerun-triggers", "mtime", "--until", "network"]
    try:
        built = snakemake(work, *args)
        assert built.returncode == 0, built.stderr[-3000:]
        edges.write_text(edges.read_text(encoding="utf-8").replace("2.0", "2.5"), encoding="utf-8")
        plan = snakemake(work, "-n", *args)
        assert f"reason: Updated input files: {edges}" in plan.stdout and "wildcards: net=mine" in plan.stdout
    finally:
        shutil.rmtree(work / "results" / "shared" / "network" / "mine", ignore_errors=True)


def planned_jobs(work: Path, *overlays: str) -> tuple[dict[str, int], str]:
    """Jobs per rule that a dry run on the demo with these overlays would run, and Snakemake's output."""
    done = snakemake(work, "-n", "--configfile", "workflow/demo.yaml", *overlays)
    assert done.returncode == 0, done.stderr[-3000:]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", done.stdout, flags=re.M)}, done.stdout


def test_dry_run_reruns_the_readers_of_models_panel_years(demo_runs):
    """The issue-12 case on a finished run: editing models.panel.years reruns the panel batches (params changed)
    and, through their outputs, the tables that collect them and the manifest; no cross-section or spatial batch,
    no earlier stage reruns."""
    work = demo_runs[0].parent.parent
    overlay = work / "panel_years.yaml"
    overlay.write_text("models:\n  panel:\n    years: {start: 2012, end: 2021}\n", encoding="utf-8")
    try:
        jobs, plan = planned_jobs(work, str(overlay))
    finally:
        overlay.unlink()
    assert {"models_panel_1", "models_spatial_panel_1", "evidence", "spec_curve", "manifest"} <= jobs.keys(), plan
    assert not {"models_cross_section_1", "models_spatial_1", "resilience", "panel"} & jobs.keys(), plan
    reasons = plan.split("Reasons:")[-1].splitlines()
    at = next(k for k, line in enumerate(reasons) if "params" in line.lower())
    assert {rule.strip() for rule in reasons[at + 1].split(",")} == {"models_panel_1", "models_spatial_panel_1"}, \
        plan[-3000:]


def test_a_models_only_run_reuses_the_shared_stages_and_a_changed_network_gets_its_own(demo_runs, tmp_path):
    """A new run whose configuration differs from the demo's only in its models reads the demo's shared stages
    (retrieval and panel, networks, centralities, weights, quality flags, resilience measures, Moran's I;
    results/shared): none of their jobs is planned. A changed network plans that network and its centralities
    alone, in new folders (the demo's stay as they are)."""
    work = demo_runs[0].parent.parent
    models_only = tmp_path / "models_only.yaml"
    models_only.write_text("run: models_only\nmodels:\n  specs:\n    extra: {estimator: ols, measure: drop, cov: HC1}\n",
                           encoding="utf-8")
    jobs, _ = planned_jobs(work, str(models_only))
    assert not {"panel", "network", "centrality", "weights", "quality", "resilience", "moran"} & jobs.keys(), jobs
    assert {"design", "models_cross_section_1", "figures", "manifest"} <= jobs.keys(), jobs
    top5 = tmp_path / "top5.yaml"
    top5.write_text("run: top5\nnetwork:\n  gravity_top10: {backbone: {method: top_k, k: 5}}\n", encoding="utf-8")
    jobs, plan = planned_jobs(work, str(top5))
    assert jobs["network"] == jobs["centrality"] == 1 and not {"panel", "weights"} & jobs.keys(), jobs
    assert "wildcards: net=gravity_top10" in plan and "wildcards: net=gravity," not in plan


def test_headline_measure_replaces_drop_in_every_report(demo_runs, tmp_path):
    """report.headline_measure: recovery reruns only the rules that read it (params), which then draw recovery's
    map, scatter and LISA map: no stage hard-codes drop (export reruns because the extremes table it labels
    changed: an input, not a param)."""
    work = tmp_path / "headline"
    shutil.copytree(demo_runs[0].parent.parent, work, symlinks=True)
    (work / "headline.yaml").write_text("report: {headline_measure: recovery}\n", encoding="utf-8")
    done = snakemake(work, "--configfile", "workflow/demo.yaml", "headline.yaml")
    assert done.returncode == 0, done.stderr[-3000:]
    ran = set(re.findall(r"^(?:local)?rule (\w+):", done.stdout + done.stderr, flags=re.M))
    assert ran == {"report", "figures", "resilience_report", "export", "manifest", "all"}, ran
    for name in ("map_recovery.png", "scatter_centrality_recovery.png", "lisa_recovery.png"):
        assert (work / "results" / "demo" / "figures" / name).stat().st_size > 0, name


def test_snakemake_report_is_built(demo_runs):
    work = demo_runs[0].parent.parent
    done = snakemake(work, "--configfile", "workflow/demo.yaml", "--report", "results/demo/report.html")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (work / "results" / "demo" / "report.html").stat().st_size > 100_000


def test_two_clean_runs_are_byte_identical(demo_runs):
    first, second = (result_files(run) for run in demo_runs)
    assert first.keys() == second.keys() and len(first) > 10
    differing = [name for name in first if first[name] != second[name]]
    assert not differing


def test_config_typo_stops_with_key_path(tmp_path):
    work = copy_project(tmp_path)
    text = (work / "config.yaml").read_text(encoding="utf-8").replace("shock_year:", "shock_yaer:")
    (work / "config.yaml").write_text(text, encoding="utf-8")
    done = snakemake(work, "-n")
    assert done.returncode != 0
    assert "resilience: unknown key" in done.stdout + done.stderr and "shock_yaer" in done.stdout + done.stderr


def test_missing_files_named_in_the_config_stop_before_any_job(tmp_path):
    work = copy_project(tmp_path)
    (work / "data" / "crosswalk" / "city_codes.csv").unlink()
    (work / "mine.yaml").write_text("sources:\n  covid:\n    files: [{path: exports/covid.csv}]\n", encoding="utf-8")
    done = snakemake(work, "--configfile", "mine.yaml")
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "files named in the configuration do not exist (nothing was run)" in output
    assert "sources.covid.files.0.path: exports/covid.csv" in output and "data/crosswalk/city_codes.csv" in output
    assert "Traceback" not in output and not (work / "results").exists()


def test_offline_without_mirror_stops_at_retrieval(tmp_path):
    work = copy_project(tmp_path)
    (work / "offline.yaml").write_text("allow_network: false\n", encoding="utf-8")
    done = snakemake(work, "--configfile", "offline.yaml", env={"CITYRES_MIRROR": str(tmp_path / "no-mirror")})
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "source file(s) could not be retrieved" in output and "CRE_Gdpct.csv" in output
    assert not list((work / "results").rglob("panel.parquet"))


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """The default (real-data) config run end to end on the mirror."""
    mirror = require_mirror()
    work = copy_project(tmp_path_factory.mktemp("real"))
    done = snakemake(work, env={"CITYRES_MIRROR": str(mirror)})
    assert done.returncode == 0, done.stderr[-4000:]
    return work / "results" / "real"


def test_real_data_regression_sample(real_run):
    drop = json.loads((real_run / "models" / "baseline-drop.json").read_text())
    recovery = json.loads((real_run / "models" / "baseline-recovery.json").read_text())
    sar = json.loads((real_run / "models" / "spatial-sar.json").read_text())
    assert {i["impact"] for i in sar["impacts"]} == {"direct", "indirect", "total"}
    assert drop["n"] >= 280 and recovery["n"] >= 280 and sar["n"] == drop["n"]
    assert "420100" not in drop["sample"]  # Wuhan: the origin of the outflow-share control has no value


def test_real_data_joins_and_attrition(real_run):
    attrition = pd.read_csv(stage_path(real_run, "data", "attrition.csv"), dtype=str)
    recoded = attrition[(attrition["source"] == "csmar_gdp") & (attrition["outcome"] == "recoded by crosswalk")]
    assert {"110000 -> 110100", "371200 -> 370100", "469003 -> 460400"} <= set(recoded["units"])
    dropped = attrition[(attrition["source"] == "csmar_gdp") & (attrition["outcome"] == "dropped by crosswalk")]
    assert set(dropped["units"]) == {"341400", "429000"}
    panel = pd.read_parquet(stage_path(real_run, "data", "panel.parquet"))
    gdp_2019 = panel.loc[panel["year"] == 2019, "gdp"]
    assert gdp_2019.notna().sum() >= 330
    # Jinan includes Laiwu before the 2019 merger: no break at 2019 (CSMAR Jinan alone 2018 ≈ 7,857).
    jinan = panel[panel["city_code"] == "370100"].set_index("year")["gdp"]
    assert jinan[2018] > 8500 and abs(jinan[2019] / jinan[2018] - 1) < 0.10


def test_real_data_centralities_and_weights(real_run):
    centrality = pd.read_parquet(stage_path(real_run, "centrality/gravity", "centrality.parquet"))
    c2019 = centrality[centrality["year"] == 2019].pivot(index="city_code", columns="measure", values="value")
    assert len(c2019) >= 330 and c2019[["strength", "closeness", "betweenness"]].notna().all().all()
    assert c2019["betweenness"].between(0, 1).all()
    flows = pd.read_parquet(stage_path(real_run, "network/baidu_flows", "edges.parquet"))
    assert flows["source"].nunique() >= 330 and set(flows["year"]) == {2020}
    summary = json.loads(stage_path(real_run, "weights", "queen.summary.json").read_text())
    assert summary["n"] == 369 and summary["islands"] == ["460300"]  # Sansha (South China Sea islands)


def test_real_data_quality_flags_and_evidence(real_run):
    flags = pd.read_csv(stage_path(real_run, "quality", "quality_flags.csv"), dtype={"city_code": str})
    jinan = flags[(flags["city_code"] == "370100") & (flags["flag"] == "admin_change")]
    assert set(jinan["year"]) == {2019}                          # Laiwu merged into Jinan (crosswalk valid_to 2018)
    census_gaps = flags[(flags["variable"] == "pop_census") & (flags["flag"] == "gap")]
    assert census_gaps.empty                                     # observed only in census years: no gaps
    # Siping's 2020 nominal GDP fell 35 % while Jilin's median city barely moved (a jump on both robust scales): a
    # statistical revision, which the official real growth index does not show (no flag on real GDP)
    siping = flags[(flags["city_code"] == "220300") & (flags["year"] == 2020)]
    assert siping.loc[siping["variable"] == "gdp", "flag"].tolist() == ["jump"]
    assert "real_gdp" not in set(siping["variable"])
    jiaozuo = flags[(flags["city_code"] == "410800") & (flags["variable"] == "real_gdp") & (flags["year"] == 2020)]
    assert jiaozuo["flag"].tolist() == ["jump"] and (jiaozuo[["z_city", "z_province"]].abs() > 3.5).all(axis=None)
    evidence = pd.read_csv(real_run / "tables" / "evidence.csv").set_index(["shock", "hypothesis"])
    assert len(evidence) == 25 and evidence.loc[("covid_2020", ["H5a", "H5e"]), "verdict"].eq("inactive").all()
    assert evidence["primary_file"].dropna().str.startswith("results/real/models/").all()
    assert evidence.loc["omicron_2022"].index.tolist() == ["H1a", "H1b", "H1c", "H2a", "H2b", "H2c", "H3a", "H3b", "H3c"]
    unflagged = json.loads((real_run / "models" / "quality-drop.json").read_text())
    assert "410800" in unflagged["dropped"]["data-quality flag on the outcome"] and "410800" not in unflagged["sample"]


def test_real_data_official_real_gdp_and_source_consistency(real_run):
    panel = pd.read_parquet(stage_path(real_run, "data", "panel.parquet")).set_index(["city_code", "year"])
    chained = panel["real_gdp"].unstack()
    assert chained[2019].notna().sum() >= 320 and chained[2023].notna().sum() >= 290
    assert chained[2000].notna().sum() >= 320                   # the official index chained from 2000
    # the chain by hand for Jiaozuo: G-P's 2019 nominal level × its official indices for 2020 (79.0) and 2021
    jiaozuo = panel.loc["410800"]
    assert jiaozuo.at[2020, "gdp_index_gp"] == pytest.approx(79.0, abs=0.05)
    assert chained.at["410800", 2019] == pytest.approx(jiaozuo.at[2019, "gdp_gp"])
    assert chained.at["410800", 2021] == pytest.approx(
        jiaozuo.at[2019, "gdp_gp"] * jiaozuo.at[2020, "gdp_index_gp"] / 100 * jiaozuo.at[2021, "gdp_index_gp"] / 100)
    # a city G-P lacks takes CSMAR's index: the chain exists where only CSMAR reports
    only_csmar = panel["gdp_index_gp"].isna() & panel["gdp_index_csmar"].notna() & panel["real_gdp"].notna()
    assert only_csmar.groupby(level="city_code").any().sum() >= 30
    # CSMAR's 2021 "growth" of 108.9 for Gansu cities is an index: the consistency table shows it, the chain avoids it
    jinchang = panel.loc["620300"]
    assert jinchang.at[2021, "gdp_growth_csmar"] > 100 and chained.at["620300", 2021] / chained.at["620300", 2020] < 1.2
    consistency = pd.read_csv(stage_path(real_run, "data", "source_consistency.csv"), dtype={"city_code": str})
    nominal = consistency[consistency["pair"] == "nominal_gdp"]
    by_year = nominal.groupby("year")["beyond_tolerance"].mean()
    assert by_year[2019] < 0.02 and by_year[2016] > 0.2     # revised levels before 2019, agreement from 2019


def test_real_data_two_shocks_gap_paths_and_the_panel_to_2023(real_run):
    def resilience(name: str) -> pd.DataFrame:
        return pd.read_parquet(stage_path(real_run, "resilience", name))

    measures = pd.concat([resilience("resilience.parquet").assign(shock="covid_2020"),
                          resilience("resilience_shocks.parquet")])
    drops = measures[(measures["outcome"] == "real_gdp") & (measures["measure"] == "drop")]
    assert drops.groupby("shock")["value"].count().min() >= 290          # both shocks, ≥ 290 cities
    gaps = resilience("resilience_gaps.parquet")
    gdp = gaps[gaps["outcome"] == "real_gdp"].set_index(["shock", "city_code", "year"])
    assert gdp.loc["covid_2020"].index.get_level_values("year").max() == 2023
    # the share closed by 2023, by hand from the counterfactual paths: 1 − g_2023 / g_2020
    paths = resilience("resilience_paths.parquet")
    wuhan = paths[(paths["outcome"] == "real_gdp") & (paths["city_code"] == "420100")].set_index("year")
    g = wuhan["actual_log"] - wuhan["counterfactual_log"]
    assert g[2020] < 0 and gdp.at[("covid_2020", "420100", 2023), "share_closed"] == pytest.approx(1 - g[2023] / g[2020])
    assert gdp.at[("covid_2020", "420100", 2023), "cumulative_gap"] == pytest.approx(g.loc[2020:2023].sum())
    panel = json.loads((real_run / "models" / "panel-cluster_city.json").read_text())
    terms = {c["term"] for c in panel["coefficients"]}
    assert {"dc_x_post", "dc_x_omicron_2022", "cc_x_omicron_2022"} <= terms and panel["diagnostics"]["periods"] == 13
    held = json.loads((real_run / "models" / "panel_pre_shock.json").read_text())
    assert "dc" not in {c["term"] for c in held["coefficients"]} and held["diagnostics"]["entities"] >= 330
    timing = {y: json.loads((real_run / "models" / f"omicron_timing-{y}.json").read_text()) for y in (2019, 2021)}
    assert timing[2019]["spec"]["centrality_year"] == 2019 and timing[2021]["spec"]["centrality_year"] == 2021
    resident = pd.read_parquet(stage_path(real_run, "centrality/gravity_resident", "centrality.parquet"))
    assert resident.loc[resident["year"] == 2022, "city_code"].nunique() >= 290


def test_real_data_resilience_profile_for_both_shocks(real_run):
    ranking = pd.read_csv(real_run / "tables" / "resilience_ranking.csv", dtype={"city_code": str})
    for shock in ("covid_2020", "omicron_2022"):
        composite = ranking[(ranking["shock"] == shock) & (ranking["outcome"] == "real_gdp")
                            & (ranking["measure"] == "composite")]
        assert len(composite) >= 290 and composite["value"].between(0, 100).all()
        assert composite[["rank_low", "rank_high", "p_top", "p_bottom"]].notna().all().all()
    extremes = (real_run / "tables" / "resilience_extremes.md").read_text()
    assert "P(top k)" in extremes and "rank 95%" in extremes
    screening = pd.read_parquet(stage_path(real_run, "resilience", "resilience_screening.parquet"))
    share = screening[screening["outcome"] == "real_gdp"].groupby("year")["shock"].mean()
    assert share.idxmax() == 2020 and share[2020] > 3 * share.drop(2020).max()   # the pandemic stands out
    window = pd.read_csv(real_run / "tables" / "quality_window.csv")
    assert "screened shock" in window.columns


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (CI does not install TeX)")
def test_latex_tables_compile_stand_alone(demo_runs, tmp_path):
    for tex in sorted((demo_runs[0] / "tables").glob("*.tex")):
        shutil.copy(tex, tmp_path / tex.name)
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (tex.name, done.stdout[-2000:])


def test_raw_data_cache_survives_a_failed_offline_retrieval(real_run, tmp_path):
    """The cache data/raw is no rule's output: a retrieval that fails (offline, no mirror, one pin changed) leaves
    every cached file in place, byte for byte; the copies under the data stage's raw/ are the rule's outputs."""
    work = copy_project(tmp_path / "work")
    shutil.copytree(real_run.parent.parent / "data" / "raw", work / "data" / "raw")
    store = {str(p): p.read_bytes() for p in sorted((work / "data" / "raw").rglob("*")) if p.is_file()}
    config = (work / "config.yaml").read_text(encoding="utf-8")
    assert len(store) == len(source_files(yaml.safe_load(config)))      # every file of config.yaml's sources
    pinned = "5ec38a6ebabf4b92166e43d922631a8b7f1d2a2c8a8961cb7361932e28f034ec"     # the COVID file
    (work / "config.yaml").write_text(config.replace(pinned, "ab" * 32), encoding="utf-8")
    (work / "offline.yaml").write_text("allow_network: false\n", encoding="utf-8")
    done = snakemake(work, "--configfile", "offline.yaml", env={"CITYRES_MIRROR": str(tmp_path / "no-mirror")})
    assert done.returncode != 0 and "1 source file(s) could not be retrieved" in done.stdout + done.stderr
    assert {str(p): p.read_bytes() for p in sorted((work / "data" / "raw").rglob("*")) if p.is_file()} == store
    (work / "config.yaml").write_text(config, encoding="utf-8")       # the right pin: everything from the cache
    done = snakemake(work, "--configfile", "offline.yaml", "--until", "retrieve",
                     env={"CITYRES_MIRROR": str(tmp_path / "no-mirror")})
    assert done.returncode == 0, done.stderr[-3000:]
    # the failed retrieval had another pin, so another data folder: the one with a record of origins is this one
    [origins] = (work / "results" / "shared" / "data").glob("*/logs/retrieve_origins.tsv")
    assert origins.read_text(encoding="utf-8").count("\tcache") == len(store)
    assert (origins.parent.parent / "raw").is_dir()
