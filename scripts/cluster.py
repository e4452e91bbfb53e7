"""Check a Snakemake profile before a run: its executor's plugin must be installed.

Snakemake itself rejects an unknown executor with an argparse usage dump ("invalid choice: 'slurm'") that does not
say which package is missing. ``python -m scripts.cluster check <profile dir>`` (run by ``make cluster``) names
the profile file, the executor and the pip package to install, and exits 1.
"""
import importlib.util
import sys
from pathlib import Path

import yaml

from scripts.common import InputError

BUILT_IN = ("local", "dryrun", "touch")


def plugin_package(executor: str) -> str:
    """The PyPI package of a Snakemake executor plugin, e.g. slurm → snakemake-executor-plugin-slurm."""
    return f"snakemake-executor-plugin-{executor}"


def check_profile(profile: Path) -> str:
    """The profile's executor, if it is built in or its plugin is importable; InputError otherwise."""
    config_file = profile / "config.yaml"
    if not config_file.is_file():
        raise InputError(f"{config_file}: no such profile file. Profiles live in workflow/profiles/<name>/config.yaml.")
    settings = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    executor = str(settings.get("executor", "local"))
    module = "snakemake_executor_plugin_" + executor.replace("-", "_")
    if executor not in BUILT_IN and importlib.util.find_spec(module) is None:
        raise InputError(f"{config_file}: executor '{executor}' is not installed. Install its plugin with "
                         f"`.venv/bin/pip install {plugin_package(executor)}`, or run locally with "
                         "--profile workflow/profiles/local.")
    return executor


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "check":
        print("usage: python -m scripts.cluster check <profile directory>", file=sys.stderr)
        return 2
    try:
        executor = check_profile(Path(argv[1]))
    except InputError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    print(f"{argv[1]}: executor '{executor}' is available")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
