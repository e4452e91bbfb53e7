"""Benchmark: the whole pipeline on the real data, not a test.

  PYTHONPATH=. .venv/bin/python benchmarks/bench_pipeline.py [--configfile workflow/grid.yaml] [--cores 2] [--cold]

In a fresh copy of the project (git-tracked files), with the data already in the copy's cache (retrieved once,
untimed, from the mirror), every figure as a ratio to a bare `snakemake --version` measured in the same run
(interpreter and Snakemake start-up; machine speed varies between sessions, ratios much less):
  1. full run from empty results;
  2. no-op rerun (best of 3);
  3. the edit-one-key loop on the finished run: a model spec's covariance changed; a figure option changed;
  4. a models-only overlay as a new run (`run: models_only`, one spec group added): it reuses the shared stages
     (results/shared: retrieval and panel, networks, centralities, weights) of run 1, against run 1's time;
and where the time of runs 1 and 4 goes: job-seconds per rule from the rules' benchmark files. ``--cold`` runs every
job in a new interpreter (CITYRES_WARM=0), without the warm start of scripts/warm.py, as the baseline for it.

Snakemake's floor for the same work: a generated workflow with the run's DAG (`snakemake --dag`: the same jobs and
dependencies), each job a `script:` that only writes its file (no imports, no computing), run the same ways — from
empty, no-op, and the jobs each edit reruns (forced by name). What the pipeline spends above it is its own: Snakefile,
imports, computing, drawing.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
MODELS_ONLY = "run: models_only\nmodels:\n  specs:\n    extra_controls: {estimator: ols, measure: [drop, recovery], cov: HC1}\n"
EDITS = {"model spec (robust_se.cov)": "models:\n  specs:\n    robust_se: {estimator: ols, measure: drop, cov: [HC1, cluster_province]}\n",
         "figure option (report.label_cities)": "report:\n  label_cities: 3\n"}


def copy_project(target: Path) -> Path:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


def snakemake(work: Path, *args: str, env: dict[str, str]) -> float:
    """Seconds of one snakemake call (fails loudly)."""
    start = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "snakemake"), *args], cwd=work, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    return time.perf_counter() - start


def job_seconds(folders: list[Path], since: float = 0.0) -> pd.DataFrame:
    """Seconds and job count per rule, from the benchmark files under `folders` written after `since` (epoch s): the
    rule is the first folder or file under benchmarks/ (benchmarks/models/<batch>.tsv, results/shared/…/network.tsv)."""
    rows = []
    for folder in folders:
        for path in folder.rglob("*.tsv"):
            if "benchmarks" in path.parts and path.stat().st_mtime >= since:
                rule = path.parts[path.parts.index("benchmarks") + 1].removesuffix(".tsv")
                rows.append({"rule": rule, "s": float(pd.read_csv(path, sep="\t")["s"].iloc[-1])})
    return pd.DataFrame(rows).groupby("rule")["s"].agg(["sum", "count"]).sort_values("sum", ascending=False)


DOT_NODE = re.compile(r'^\s*(\d+)\[label = "([^"]*)".*style="([^"]*)"', re.MULTILINE)
DOT_EDGE = re.compile(r"^\s*(\d+) -> (\d+)", re.MULTILINE)


def dag_of(work: Path, *args: str, env: dict[str, str]) -> tuple[dict[str, str], list[tuple[str, str]], set[str]]:
    """The run's DAG from `snakemake --dag`: {job id: label (rule and wildcards)}, the (upstream, downstream) edges,
    and the labels of the jobs that would run (Snakemake draws the others dashed)."""
    dot = subprocess.run([str(ROOT / ".venv" / "bin" / "snakemake"), "--dag", *args], cwd=work, env=env,
                         capture_output=True, text=True, check=True).stdout
    found = DOT_NODE.findall(dot)
    to_run = {label for _, label, style in found if "dashed" not in style}
    return {job: label for job, label, _ in found}, DOT_EDGE.findall(dot), to_run


def write_floor_workflow(folder: Path, nodes: dict[str, str], edges: list[tuple[str, str]]) -> dict[str, str]:
    """A Snakefile with one rule per job of the DAG, each a `script:` that writes an empty file; rule `all` first.
    Returns {label: rule name}."""
    names = {job: "all" if label == "all" else f"job{job}" for job, label in nodes.items()}
    upstream: dict[str, list[str]] = {job: [] for job in nodes}
    for source, target in edges:
        upstream[target].append(source)
    rules = []
    for job in sorted(nodes, key=lambda j: (names[j] != "all", int(j))):
        inputs = "".join(f'"files/{names[j]}", ' for j in upstream[job])
        body = f"    input: [{inputs}]\n"
        if names[job] != "all":
            body += f'    output: "files/{names[job]}"\n    script: "write.py"\n'
        rules.append(f"rule {names[job]}:\n{body}")
    folder.mkdir(parents=True)
    (folder / "Snakefile").write_text("\n".join(rules), encoding="utf-8")
    (folder / "write.py").write_text("open(snakemake.output[0], 'w').close()\n", encoding="utf-8")
    return {label: names[job] for job, label in nodes.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--configfile", default=None, help="overlay, e.g. workflow/grid.yaml")
    parser.add_argument("--cores", default="2")
    parser.add_argument("--cold", action="store_true", help="no warm start (CITYRES_WARM=0)")
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    overlay = yaml.safe_load((ROOT / args.configfile).read_text(encoding="utf-8")) if args.configfile else {}
    run = overlay.get("run", config["run"])
    env = {"PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
           "CITYRES_MIRROR": str((ROOT / config["mirror"]).resolve()), "HOME": tempfile.gettempdir(),
           **({"CITYRES_WARM": "0"} if args.cold else {})}
    overlays = [args.configfile] if args.configfile else []
    with tempfile.TemporaryDirectory() as tmp:
        work = copy_project(Path(tmp))
        results = work / "results"

        def call(*extra: str, files: tuple[str, ...] = ()) -> float:
            # one --configfile flag with every overlay: a second flag would replace the first
            chosen = [*overlays, *files]
            return snakemake(work, "--cores", args.cores, *(["--configfile", *chosen] if chosen else []), *extra,
                             env=env)

        call("--until", "retrieve")   # fill the cache, untimed
        shutil.rmtree(results)
        bare = min(snakemake(work, "--version", env=env) for _ in range(3))
        full = call()
        full_jobs = job_seconds([results / run, results / "shared"])
        noop = min(call() for _ in range(3))
        edits = {}
        for label, text in EDITS.items():
            (work / "edit.yaml").write_text(text, encoding="utf-8")
            edits[label] = call(files=("edit.yaml",))
            call()   # back to the configured run
        # Snakemake's floor: the same DAG of jobs that do nothing, run the same ways
        nodes, edges, _ = dag_of(work, "--forceall", env=env)
        floor_dir = Path(tmp) / "floor"
        rule_of = write_floor_workflow(floor_dir, nodes, edges)
        floor = {"full": snakemake(floor_dir, "--cores", args.cores, env=env)}
        floor["noop"] = min(snakemake(floor_dir, "--cores", args.cores, env=env) for _ in range(3))
        for label, text in EDITS.items():
            (work / "edit.yaml").write_text(text, encoding="utf-8")
            to_run = dag_of(work, "--configfile", *overlays, "edit.yaml", env=env)[2]
            rerun = sorted(rule_of[job] for job in to_run if job != "all")
            floor[label] = snakemake(floor_dir, "--cores", args.cores, "--forcerun", *rerun, env=env)
        (work / "models_only.yaml").write_text(MODELS_ONLY, encoding="utf-8")
        started = time.time()
        models_only = call(files=("models_only.yaml",))
        models_only_jobs = job_seconds([results / "models_only", results / "shared"], since=started)
    start = "cold" if args.cold else "warm"
    print(f"run '{run}', --cores {args.cores}, {start} start; bare `snakemake --version` {bare:.2f} s (best of 3) = 1x")
    print(f"{len(nodes) - 1} jobs; Snakemake's floor: the same DAG of jobs that write an empty file\n")
    print(f"{'':50}{'pipeline':>18}{'floor':>18}")
    rows = {"full run from empty results": (full, floor["full"]), "no-op rerun (best of 3)": (noop, floor["noop"]),
            **{f"edit one key: {label}": (seconds, floor[label]) for label, seconds in edits.items()}}
    for label, (seconds, least) in rows.items():
        print(f"{label:<50}{seconds:7.2f} s {seconds / bare:6.1f}x{least:7.2f} s {least / bare:6.1f}x")
    print(f"models-only overlay, new run       {models_only:7.1f} s   {models_only / bare:6.1f}x   "
          f"{models_only / full:.2f} of the full run")
    table = full_jobs.merge(models_only_jobs, left_index=True, right_index=True, how="outer",
                            suffixes=("_full", "_models_only")).fillna(0)
    print("\njob-seconds per rule (full run; models-only overlay):")
    print(table.round(1).to_string())
    print(f"total job-seconds: {table['sum_full'].sum():.1f}; {table['sum_models_only'].sum():.1f}")


if __name__ == "__main__":
    main()
