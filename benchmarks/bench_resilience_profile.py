"""Cost of the resilience profile (issue 16) on the real analysis panel, in one process, as ratios to the resilience
stage before it: ``before`` is scripts/resilience.py as of commit eb64793 (loaded from git, its own measures only),
``without`` today's code without ``resilience.profile`` and its five measures, ``with`` today's code as configured
(the profile, its measures and the shock screening).

Run from the project root after ``make run``:  PYTHONPATH=. .venv/bin/python benchmarks/bench_resilience_profile.py
The settings are the real run's own (its provenance record); reading, writing and imports are not timed.
"""
import copy
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

from scripts import resilience
from scripts.resilience_profile import screen

BEFORE = "eb64793"   # the last commit before the resilience profile
PROFILE_MEASURES = ("depth", "strength", "stability", "transformation", "composite")


def module_at(commit: str, path: str, name: str):
    """The module at ``path`` as of ``commit``, imported under ``name``."""
    source = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True, check=True).stdout
    file = Path(tempfile.mkdtemp()) / f"{name}.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def stage_before(old, panel, params, spec) -> None:
    old.resilience_tables(panel, spec, params["years"], params["seed"])
    old.named_shock_tables(panel, spec, params["years"], params["seed"])
    old.placebo_tables(panel, spec, params["placebo"], params["years"], params["seed"])


def stage_now(panel, params, spec) -> None:
    resilience.shock_tables(panel, spec, params["years"], params["seed"])
    resilience.placebo_tables(panel, spec, params["placebo"], params["years"], params["seed"])
    if "profile" in spec:
        for outcome in spec["outcomes"]:
            screen(panel, outcome, spec["profile"]["screening"])


def main(repeats: int = 3) -> None:
    stages = json.loads(Path("results/real/MANIFEST.json").read_text())["stages"]
    params = json.loads(Path(stages["resilience"], "logs", "resilience.provenance.json").read_text())["params"]
    panel = pd.read_parquet(Path(stages["quality"], "analysis_panel.parquet"))
    configured = params["resilience"]
    without = copy.deepcopy(configured)
    without.pop("profile")
    without["measures"] = [m for m in without["measures"] if m not in PROFILE_MEASURES]
    old = module_at(BEFORE, "scripts/resilience.py", "resilience_before")
    old.COUNTERFACTUAL_MEASURES = tuple(m for m in old.COUNTERFACTUAL_MEASURES if m not in PROFILE_MEASURES)
    warnings.simplefilter("ignore", RuntimeWarning)
    print("before (s)  without (s)  with (s)  added / before  with / before")
    for _ in range(repeats):   # interleaved, so a change in machine speed hits all three
        before = timed(stage_before, old, panel, params, without)
        bare = timed(stage_now, panel, params, without)
        full = timed(stage_now, panel, params, configured)
        print(f"{before:10.2f}  {bare:11.2f}  {full:8.2f}  {(full - bare) / before:14.3f}  {full / before:13.3f}")


if __name__ == "__main__":
    main()
