"""Benchmark: the whole pipeline on the real data, not a test.

  PYTHONPATH=. .venv/bin/python benchmarks/bench_pipeline.py [--configfile workflow/grid.yaml] [--cores 2]

In a fresh copy of the project (git-tracked files), with the data already in the copy's cache (retrieved once,
untimed, from the mirror):
  1. baseline: full run from empty results with one job per model spec (models.batch_size 0);
  2. full run from empty results as configured (specs batched: imports paid once per batch);
  3. no-op rerun, against the baseline of a bare `snakemake --version` (interpreter and Snakemake start-up);
and where the time of run 2 goes: job-seconds per rule from the rules' benchmark files.
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


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


def job_seconds(run_dir: Path) -> pd.DataFrame:
    """Seconds and job count per rule, from results/<run>/benchmarks/**.tsv (the rule is the first folder or file)."""
    rows = []
    for path in (run_dir / "benchmarks").rglob("*.tsv"):
        rule = path.relative_to(run_dir / "benchmarks").parts[0].removesuffix(".tsv")
        rows.append({"rule": rule, "s": float(pd.read_csv(path, sep="\t")["s"].iloc[-1])})
    return pd.DataFrame(rows).groupby("rule")["s"].agg(["sum", "count"]).sort_values("sum", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--configfile", default=None, help="overlay, e.g. workflow/grid.yaml")
    parser.add_argument("--cores", default="2")
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    overlay = yaml.safe_load((ROOT / args.configfile).read_text(encoding="utf-8")) if args.configfile else {}
    run = overlay.get("run", config["run"])
    env = {"PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin",
           "CITYRES_MIRROR": str((ROOT / config["mirror"]).resolve()), "HOME": tempfile.gettempdir()}
    overlays = [args.configfile] if args.configfile else []
    common = ["--cores", args.cores, *(["--configfile", *overlays] if overlays else [])]
    with tempfile.TemporaryDirectory() as tmp:
        work = copy_project(Path(tmp))
        snakemake(work, *common, "--until", "retrieve", env=env)   # fill the cache, untimed
        results = work / "results" / run
        shutil.rmtree(results)
        per_spec_overlay = work / "per_spec.yaml"
        per_spec_overlay.write_text("models: {batch_size: 0}\n", encoding="utf-8")
        # one --configfile flag with every overlay: a second flag would replace the first
        baseline = snakemake(work, "--cores", args.cores, "--configfile", *overlays, str(per_spec_overlay), env=env)
        per_spec = job_seconds(results)
        shutil.rmtree(results)
        full = snakemake(work, *common, env=env)
        batched = job_seconds(results)
        noop = min(snakemake(work, *common, env=env) for _ in range(3))
        bare = min(snakemake(work, "--version", env=env) for _ in range(3))
        n_specs = len(list((results / "models").glob("*.json")))
    print(f"run '{run}', {n_specs} model specs, --cores {args.cores}")
    print(f"full run, one job per spec (baseline)   {baseline:7.1f} s")
    print(f"full run, specs batched                  {full:7.1f} s   {baseline / full:5.2f}x faster")
    print(f"no-op rerun (best of 3)                  {noop:7.2f} s   {noop / bare:5.2f}x a bare `snakemake --version` "
          f"({bare:.2f} s)")
    print("\njob-seconds per rule (one job per spec → batched):")
    table = per_spec.merge(batched, left_index=True, right_index=True, how="outer",
                           suffixes=("_per_spec", "_batched")).fillna(0)
    model_rows = table.index.str.startswith("models")
    print(table.round(1).to_string())
    print(f"model jobs: {table.loc[model_rows, 'count_per_spec'].sum():.0f} → "
          f"{table.loc[model_rows, 'count_batched'].sum():.0f}, "
          f"{table.loc[model_rows, 'sum_per_spec'].sum():.1f} → {table.loc[model_rows, 'sum_batched'].sum():.1f} "
          "job-seconds")


if __name__ == "__main__":
    main()
