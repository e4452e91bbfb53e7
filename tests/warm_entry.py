"""A stand-in rule entry point for tests/test_warm.py: records where it ran; its params choose a failure or a wait."""
from scripts.warm import hand_over

hand_over(globals())

import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from scripts.common import InputError, run_rule  # noqa: E402


def main(smk: Any) -> None:
    """Write where the job ran (its parent process), its folder and environment; or fail, or wait, as params.action
    says."""
    seen = {"parent": os.getppid(), "cwd": os.getcwd(), "marker": os.environ.get("WARM_TEST_MARKER"),
            "threads": os.environ.get("OMP_NUM_THREADS")}
    if smk.params.action == "fail":
        raise InputError("the stand-in job failed on purpose")
    if smk.params.action == "wait":
        Path(smk.params.pid_file).write_text(str(os.getpid()))
        time.sleep(120)
    print("warm test job printed this", flush=True)
    Path(smk.output[0]).write_text(json.dumps(seen))


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
