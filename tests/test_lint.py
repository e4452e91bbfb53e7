"""The ecosystem's linters on the project: ruff, snakefmt and Snakemake's own linter.

``snakemake --lint`` keeps three kinds of message, each a deliberate choice explained here and in the README:
"""
import re
import subprocess
import sys

from tests.conftest import ROOT

ALLOWED_SNAKEMAKE_LINTS = {
    # The environment is one pinned pip venv (requirements.txt, `make setup`) shared by every rule; the product
    # runs where conda is not available (CI, the developers' machines), so rules name no conda env or container.
    "Specify a conda environment or container for each rule.",
    # Small helpers that compute a rule's params (the exact config slice it reads) stay next to that rule, so a
    # reader sees in one file what the rule depends on.
    "Mixed rules and functions in same snakefile.",
    # raw_dir is the root of the raw-data cache that retrieval lays files under (data/raw/<host>/<path>); the files
    # themselves are declared inputs/outputs, the root is passed so the library can map URLs to cache paths.
    "Param raw_dir is a prefix of input or output file but hardcoded",
}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean():
    done = run("ruff", "check", "scripts", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout[-4000:]


def test_snakefmt_is_clean():
    done = run("snakefmt", "--check", "Snakefile", "workflow/rules")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_snakemake_lint_has_only_the_explained_messages():
    done = run("snakemake", "--lint")
    titles = set(re.findall(r"^\s*\* (.+?):?\s*$", done.stdout + done.stderr, flags=re.M))
    assert titles <= ALLOWED_SNAKEMAKE_LINTS, sorted(titles - ALLOWED_SNAKEMAKE_LINTS)
