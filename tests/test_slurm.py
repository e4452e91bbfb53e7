"""Opt-in: the demo through a real single-node SLURM (CITYRES_SLURM_TEST=1; needs root, apt-get and daemons).

Not part of the default suite or CI: it installs Debian packages, writes /etc/slurm/slurm.conf and leaves munged,
slurmctld and slurmd running — nothing a test should do to a developer's machine unasked. Run it with
    CITYRES_SLURM_TEST=1 .venv/bin/python -m pytest -q tests/test_slurm.py
"""
import os
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(os.environ.get("CITYRES_SLURM_TEST") != "1",
                                reason="opt-in: set CITYRES_SLURM_TEST=1 (root; installs and starts SLURM)")


def test_demo_jobs_run_through_the_slurm_executor():
    target = "results/demo_slurm/tables/quality_flags.md"     # three jobs: panel, quality, quality_report
    done = subprocess.run(["bash", "workflow/profiles/slurm/selftest.sh", target], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "submitted with SLURM jobid" in done.stdout + done.stderr
    assert (ROOT / target).stat().st_size > 0
