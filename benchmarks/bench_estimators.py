"""Benchmark: seconds per fit of each estimator on the real data, against OLS in the same run; not a test.

  PYTHONPATH=. .venv/bin/python benchmarks/bench_estimators.py [--run results/real] [--repeat 5]

Fits the default config's specs (one per estimator) with scripts.estimation.fit.fit_named_spec on the result files of a
finished run, imports already paid; reports the best of --repeat fits, and the ratio to OLS (baseline-drop).
"""
import argparse
import json
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import yaml

from scripts.estimation.fit import fit_named_spec
from scripts.registry import ESTIMATORS
from scripts.rules.models import shared_tables
from scripts.specs import batch_settings, expand_specs

FILES = {"panel": ("quality", "analysis_panel.parquet"), "flags": ("quality", "quality_flags.csv"),
         "resilience": ("resilience", "resilience.parquet"), "placebo": ("resilience", "resilience_placebo.parquet"),
         "shocks": ("resilience", "resilience_shocks.parquet"), "cities": ("data", "cities.parquet")}   # stage, file
SPECS = {"ols": "baseline-drop", "ols + 999 permutations": "permutation", "sar": "spatial-sar",
         "sem": "spatial-sem", "sdm": "spatial-sdm", "gm_lag": "spatial-gm_lag", "gm_error": "spatial-gm_error",
         "panel_fe": "panel-cluster_city", "event_study": "event_study", "panel_sar": "spatial_panel-panel_sar",
         "panel_sem": "spatial_panel-panel_sem"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", default="results/real")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    config = yaml.safe_load(Path("config.yaml").read_text(encoding="utf-8"))
    specs = expand_specs(config["models"])
    run = Path(args.run)
    settings = batch_settings(list(SPECS.values()), specs, config)
    stages = json.loads((run / "MANIFEST.json").read_text(encoding="utf-8"))["stages"]   # the shared folders read
    tables = shared_tables(SimpleNamespace(**{k: f"{stages[stage]}/{name}" for k, (stage, name) in FILES.items()}),
                           settings)
    seconds = {}
    for label, name in SPECS.items():
        spec = specs[name]
        centrality = pd.read_parquet(f"{stages['centrality/' + spec['network']]}/centrality.parquet")
        weights = (pd.read_parquet(f"{stages['weights']}/{spec['weights']}.parquet")
                   if ESTIMATORS[spec["estimator"]].uses_weights else pd.DataFrame())
        fit_named_spec(specs[name], settings, tables, centrality, weights)       # warm-up: imports, caches
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = fit_named_spec(specs[name], settings, tables, centrality, weights)
            runs.append(time.perf_counter() - start)
        seconds[label] = (min(runs), result["n"])
    base = seconds["ols"][0]
    print(f"{'estimator':<26}{'N':>6}{'s per fit':>12}{'× OLS':>9}")
    for label, (s, n) in seconds.items():
        print(f"{label:<26}{n:>6}{s:>12.3f}{s / base:>9.1f}")


if __name__ == "__main__":
    main()
