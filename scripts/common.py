"""Shared helpers: the user-facing error type, hashing, deterministic table I/O, rule entry.

Import-light (no pandas at import): the Snakefile imports InputError from here on every Snakemake start."""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

LOG = logging.getLogger("cityres")


class InputError(Exception):
    """A problem with the user's input: config, data file, column, rows. The message says what to do."""


def sha256_of(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: str | Path, expected: str | None) -> None:
    """Raise InputError unless the file's SHA-256 equals `expected` (skipped when expected is None)."""
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected.lower():
        raise InputError(
            f"{path}: SHA-256 is {actual} but the config pins {expected}. The file is not the one the "
            "config declares; delete it and let the pipeline fetch it again, or fix the pinned hash."
        )


def format_rows(values: Iterable[Any], limit: int = 12) -> str:
    """Short, stable listing of offending values for error messages."""
    values = list(values)
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")


def require_columns(frame: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Raise InputError naming the file and the missing columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{where}: missing column(s) {format_rows(missing)}; it has {format_rows(frame.columns, 30)}. "
            "Fix the column names in config.yaml (sources/variables) or supply the right file."
        )


def write_table(frame: pd.DataFrame, path: str | Path, keys: list[str]) -> None:
    """Write a table sorted by `keys`, index dropped, as Parquet or CSV (by suffix); deterministic."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.sort_values(keys, kind="mergesort").reset_index(drop=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False, lineterminator="\n")
    else:
        raise ValueError(f"unsupported table format: {path}")


def read_results(paths: Iterable[str | Path], names: list[str]) -> list[dict[str, Any]]:
    """The model result JSONs in `paths`, in the order of the spec `names` (report.main_table's column order)."""
    by_name = {r["model"]: r for r in (json.loads(Path(p).read_text(encoding="utf-8")) for p in paths)}
    return [by_name[name] for name in names]


def write_json(obj: Any, path: str | Path) -> None:
    """Write JSON with sorted keys and a trailing newline (byte-stable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=True) + "\n",
                    encoding="utf-8")


def provenance_path(log_path: str | Path) -> Path:
    """Where a job's provenance record lives: beside its log (``logs/network/gravity.log`` →
    ``logs/network/gravity.provenance.json``)."""
    return Path(log_path).with_suffix(".provenance.json")


def provenance_record(smk: Any) -> dict[str, Any]:
    """What one job read and wrote, as Snakemake resolved it: rule, wildcards, input files, params values and the
    SHA-256 of every output as the job left it (scripts/manifest.py refuses outputs edited afterwards)."""
    return {"rule": smk.rule, "wildcards": dict(smk.wildcards.items()),
            "inputs": sorted({str(path) for path in smk.input}),
            "params": {name: value for name, value in smk.params.items()},
            "outputs": {str(path): sha256_of(path) for path in sorted(smk.output)}}


def profiled(main: Callable[[Any], None], smk: Any) -> None:
    """``main(smk)``, under cProfile when the environment names a folder in CITYRES_PROFILE (a developer's tool: the
    job's profile goes to ``<folder>/<rule>[_<wildcard values>].prof``, for ``python -m pstats`` or snakeviz)."""
    folder = os.environ.get("CITYRES_PROFILE")
    if not folder:
        main(smk)
        return
    import cProfile

    Path(folder).mkdir(parents=True, exist_ok=True)
    with cProfile.Profile() as profile:
        main(smk)
    profile.dump_stats(Path(folder) / f"{'_'.join([smk.rule, *map(str, smk.wildcards)])}.prof")


def run_rule(main: Callable[[Any], None], smk: Any) -> None:
    """Entry point for Snakemake `script:` rules: run ``main(smk)`` with its decisions (``LOG.info``) and the
    libraries' warnings written to the rule's log, and the job's provenance record beside the log; an InputError or
    an unwritable folder exits with one message and no traceback."""
    log_path = Path(smk.log[0]) if len(smk.log) else None
    handler: logging.Handler = logging.NullHandler()
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    try:
        profiled(main, smk)
    except PermissionError as err:
        message = (f"cityres: rule '{smk.rule}' cannot write {err.filename or 'its output'} ({err.strerror}). Make "
                   "that folder writable for your user, or run under another run name (run: in your overlay).")
        LOG.error(message)
        print(message, file=sys.stderr)
        sys.exit(1)
    except InputError as err:
        message = f"cityres input error in rule '{smk.rule}':\n  {err}"
        LOG.error(message)
        print(message, file=sys.stderr)
        sys.exit(1)
    except Exception:
        LOG.error(traceback.format_exc())
        raise
    else:
        LOG.info("done: %d output file(s) written", len(smk.output))
        if log_path:
            provenance_path(log_path).write_text(json.dumps(provenance_record(smk), indent=1, sort_keys=True,
                                                            ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    finally:
        handler.close()
        root.removeHandler(handler)
