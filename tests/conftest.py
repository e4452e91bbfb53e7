"""Shared fixtures: project root, the real config, the mirror location."""
import copy
import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MIRROR = Path(os.environ.get("CITYRES_MIRROR", ROOT.parent / "shared" / "data" / "mirror"))


@pytest.fixture()
def config():
    """A fresh copy of the default config.yaml."""
    return copy.deepcopy(yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8")))


def require_mirror() -> Path:
    """The mirror root; skip without it, except in CI where its absence is a failure."""
    if MIRROR.is_dir():
        return MIRROR
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the data mirror {MIRROR} is missing: the real-data tests must run in CI.")
    pytest.skip(f"data mirror {MIRROR} not present")


def validation_message(config: dict) -> str:
    """The message of the InputError that validating `config` raises (the test fails if the config is valid)."""
    from scripts.common import InputError
    from scripts.config import validate_config

    with pytest.raises(InputError) as err:
        validate_config(config)
    return str(err.value)
