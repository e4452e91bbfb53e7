"""Helpers of the workflow tests: a temporary copy of the project, Snakemake in it, and the files a run made."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

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
