"""Workflow tests on the demo: Snakemake end to end in temporary copies of the project (the real data:
tests/test_workflow_real.py, a separate file so that pytest-xdist runs the two long fixtures side by side)."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.workflow_support import coefficient, copy_project, result_files, snakemake, stage_path


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
    """Every planted coefficient lies in its model's interval, jointly: the 31 terms (with the planted moderation and
    its marginal effects at the moderator's quartiles) are checked at a family-wise 95 % level (Bonferroni,
    estimate ± z_{1 − 0.05/(2·31)}·se), since 31 separate 95 % intervals would miss at least one in most runs of a
    correct estimator (1 − 0.95³¹ ≈ 0.8; per-term coverage over many seeds is tests/test_coverage.py's job)."""
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
    planted = truth["moderation_effects_per_sd"]   # γ·z(DC)·z(capital), reversed in the second shock
    for name, sign in (("moderation-capital", 1), ("moderation_omicron-capital", -1)):
        model = json.loads((run / "models" / f"{name}.json").read_text())
        checks.append((name, "dc_x_capital", sign * planted["effects"]["dc"], coefficient(model, "dc_x_capital")))
    effects = json.loads((run / "models" / "moderation-capital.json").read_text())["marginal_effects"]
    for at in (r for r in effects["at"] if r["term"] == "dc" and r["point"] != "p50"):   # β + γ·a(q) at p25, p75
        shift = (at["moderator_value"] - effects["mean"]) / effects["sd"]
        checks.append(("moderation-capital ME", at["point"],
                       truth["effects_per_sd"]["dc"] + planted["effects"]["dc"] * shift, at))
    z = norm.ppf(1 - 0.05 / (2 * len(checks)))
    missed = [(name, term, beta, c["estimate"], c["se"]) for name, term, beta, c in checks
              if abs(c["estimate"] - beta) > z * c["se"]]
    assert len(checks) == 31 and not missed, missed


def test_demo_evidence_verdicts_follow_the_planted_signs(demo_runs):
    import pandas as pd

    both = pd.read_csv(demo_runs[0] / "tables" / "evidence.csv").set_index(["shock", "hypothesis"])["verdict"]
    evidence, omicron = both["covid_2020"], both["omicron_2022"]
    # planted: DC +0.02, CC −0.01, BC +0.015 per SD on the drop (half on recovery); the hypotheses expect "+"
    assert evidence[["H1a", "H1b", "H3a", "H3b"]].eq("supported").all()
    assert evidence[["H2a", "H2b"]].eq("contradicted").all()
    assert evidence["H5a"] == "not supported"        # synthetic moderator, no planted interaction
    assert evidence["H5a-capital"] == "supported" and omicron["H5a-capital"] == "contradicted"   # planted, reversed
    assert "H5b" not in evidence and evidence["H5c"] == "inactive"   # H5b's flows are not in the demo
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
    panel_batches = {rule for rule in jobs if rule.startswith(("models_panel_", "models_spatial_panel_"))}
    assert {"models_panel_1", "models_spatial_panel_1"} <= panel_batches, plan
    assert {rule.strip() for rule in reasons[at + 1].split(",")} == panel_batches, plan[-3000:]


def test_the_edit_loop_reruns_only_what_the_edited_key_draws_or_fits(demo_runs, tmp_path):
    """Issue 18's edit loop on a finished run: how many cities a map names (report.label_cities) redraws the maps
    alone (the resilience measures' and the city maps), not the model figures or the tables; a model spec's
    covariance refits its batch and redraws the model figures, not the maps."""
    work = demo_runs[0].parent.parent
    labels = tmp_path / "labels.yaml"
    labels.write_text("report: {label_cities: 3}\n", encoding="utf-8")
    jobs, plan = planned_jobs(work, str(labels))
    assert jobs == {"maps": 1, "resilience_maps": 1, "manifest": 1, "all": 1, "total": 4}, plan
    covariance = tmp_path / "covariance.yaml"
    covariance.write_text("models:\n  specs:\n    baseline: {cov: HC3}\n", encoding="utf-8")
    jobs, plan = planned_jobs(work, str(covariance))
    assert {"figures", "report", "manifest"} <= jobs.keys() and any(r.startswith("models_cross") for r in jobs), plan
    assert not {"maps", "resilience_maps", "resilience_report", "network_report", "design"} & jobs.keys(), plan


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
    assert ran == {"maps", "resilience_report", "export", "manifest", "all"}, ran
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


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (CI does not install TeX)")
def test_latex_tables_compile_stand_alone(demo_runs, tmp_path):
    for tex in sorted((demo_runs[0] / "tables").glob("*.tex")):
        shutil.copy(tex, tmp_path / tex.name)
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (tex.name, done.stdout[-2000:])
