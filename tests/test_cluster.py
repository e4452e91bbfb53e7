"""Profiles: the local and SLURM profiles parse; a profile whose executor plugin is missing is one clear error."""
import subprocess
import sys

import pytest
import yaml

from scripts.cluster import check_profile
from scripts.common import InputError
from tests.conftest import ROOT


def test_shipped_profiles_parse_and_the_local_one_is_usable():
    assert check_profile(ROOT / "workflow" / "profiles" / "local") == "local"
    slurm = yaml.safe_load((ROOT / "workflow" / "profiles" / "slurm" / "config.yaml").read_text(encoding="utf-8"))
    assert slurm["executor"] == "slurm" and "slurm_partition" in slurm["default-resources"]


def test_missing_executor_plugin_names_the_profile_and_the_package(tmp_path):
    (tmp_path / "config.yaml").write_text("executor: nonexistent-grid\njobs: 10\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"config.yaml: executor 'nonexistent-grid' is not installed.*"
                                         r"pip install snakemake-executor-plugin-nonexistent-grid"):
        check_profile(tmp_path)
    done = subprocess.run([sys.executable, "-m", "scripts.cluster", "check", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_every_rule_declares_threads_and_resources():
    import re

    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        blocks = re.split(r"\n\s*rule ", path.read_text(encoding="utf-8"))[1:]
        for block in blocks:
            name = block.split(":", 1)[0]
            assert "threads:" in block and "mem_mb=" in block and "runtime=" in block, (path.name, name)
