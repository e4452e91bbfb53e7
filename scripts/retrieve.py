"""Retrieval: every declared source file, verified by SHA-256, from cache → mirror → network.

A file is identified by its URL. Its cache path is ``<raw_dir>/<host>/<url path>`` and its mirror path
``<mirror>/<host>/<url path>`` (the path as written, not percent-encoded). A file whose SHA-256 differs
from the pinned one is rejected wherever it comes from and never used. Users' own exports are declared
with ``path:`` instead of ``url:`` and are only verified (when a hash is given), never copied or changed.

The cache (``data/raw``) is a store the workflow reads and fills, never a rule output: the retrieve rule's outputs
are copies of the verified files under the data stage's ``raw/`` folder (``results/shared/data/<key>/raw/``;
``install``), so Snakemake's removal of outputs before a rerun or after a failure never touches the cache.
"""

import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.common import InputError, sha256_of

MIRROR_ENV = "CITYRES_MIRROR"


@dataclass(frozen=True)
class SourceFile:
    """One file of a source: where it comes from, its pinned hash, and where the pipeline keeps it."""

    source: str
    url: str | None
    path: str | None
    sha256: str | None

    def url_relpath(self) -> Path:
        """``<host>/<path>`` of the URL, unquoted, as laid out in caches and mirrors."""
        parsed = urllib.parse.urlsplit(self.url or "")
        return Path(parsed.netloc) / urllib.parse.unquote(parsed.path).lstrip("/")

    def local_path(self, raw_dir: str | Path) -> Path:
        """Where the file is kept under `raw_dir` (a user's `path:` file stays where it is, read only). A URL whose
        path would lead outside `raw_dir` (``..`` segments, also percent-encoded) is refused."""
        if self.path is not None:
            return Path(self.path)
        local = Path(raw_dir) / self.url_relpath()
        if not local.resolve().is_relative_to(Path(raw_dir).resolve()):
            raise InputError(f"sources.{self.source}: the URL {self.url} leads outside {raw_dir} (a '..' segment); "
                             "give the file's real URL.")
        return local


def source_files(config: dict[str, Any], source: str | None = None) -> list[SourceFile]:
    """All files declared under ``sources`` (or under one source), in config order."""
    names = [source] if source else list(config["sources"])
    return [
        SourceFile(name, entry.get("url"), entry.get("path"), entry.get("sha256"))
        for name in names
        for entry in config["sources"][name]["files"]
    ]


def mirror_root(config: dict[str, Any]) -> Path | None:
    """Mirror root: the CITYRES_MIRROR environment variable wins over the config key ``mirror``."""
    root = os.environ.get(MIRROR_ENV) or config.get("mirror")
    return Path(root) if root else None


def _matches(path: Path, sha256: str | None) -> bool:
    return path.is_file() and (sha256 is None or sha256_of(path) == sha256.lower())


def _download(url: str, target: Path, timeout: float) -> None:
    quoted = urllib.parse.quote(url, safe=":/?&=%")
    with urllib.request.urlopen(quoted, timeout=timeout) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out)


def fetch(item: SourceFile, raw_dir: Path, mirror: Path | None, allow_network: bool = True,
          timeout: float = 60.0) -> tuple[str, list[str]]:
    """Put one verified file at its local path. Returns (origin, attempts); origin is '' on failure.

    Order: user path (verify only) → cache → mirror (copied into the cache) → network. A candidate
    whose hash does not match is reported in `attempts` and not used; a verified download or mirror copy replaces a
    cached file whose hash does not match, nothing else removes one.
    """
    attempts: list[str] = []
    if item.path is not None:
        local = Path(item.path)
        if _matches(local, item.sha256):
            return "user file", attempts
        attempts.append(f"user file {local}: " + ("SHA-256 mismatch" if local.is_file() else "not found"))
        return "", attempts
    target = item.local_path(raw_dir)
    if _matches(target, item.sha256):
        return "cache", attempts
    # a cached file with another hash is not used, but not deleted either: the pin may be the mistake
    attempts.append(f"cache {target}: " + ("SHA-256 mismatch (kept, not used)" if target.exists() else "not found"))
    target.parent.mkdir(parents=True, exist_ok=True)
    if mirror is not None:
        candidate = mirror / item.url_relpath()
        if _matches(candidate, item.sha256):
            shutil.copyfile(candidate, target)
            return "mirror", attempts
        attempts.append(f"mirror {candidate}: " + ("SHA-256 mismatch" if candidate.is_file() else "not found"))
    if allow_network:
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            tmp_path = Path(tmp.name)
        try:
            _download(item.url or "", tmp_path, timeout)
            if _matches(tmp_path, item.sha256):
                tmp_path.replace(target)
                return "network", attempts
            attempts.append(f"network {item.url}: SHA-256 mismatch (rejected)")
        except (urllib.error.URLError, OSError, ValueError) as err:
            attempts.append(f"network {item.url}: {getattr(err, 'reason', err)}")
        finally:
            tmp_path.unlink(missing_ok=True)
    return "", attempts


def retrieve_all(config: dict[str, Any], raw_dir: str | Path, allow_network: bool = True) -> list[dict[str, str]]:
    """Fetch every declared file; raise one InputError listing all that could not be had."""
    raw_dir = Path(raw_dir)
    mirror = mirror_root(config)
    records, failures = [], []
    for item in source_files(config):
        origin, attempts = fetch(item, raw_dir, mirror, allow_network=allow_network)
        label = item.url or item.path
        if origin:
            records.append({"source": item.source, "file": str(label), "origin": origin})
        else:
            failures.append(f"- [{item.source}] {label}\n    " + "\n    ".join(attempts))
    if failures:
        raise InputError(
            f"{len(failures)} source file(s) could not be retrieved with a matching SHA-256:\n"
            + "\n".join(failures)
            + f"\nLooked in the cache ({raw_dir}), the mirror "
            f"({mirror if mirror else 'none set'}), then the network. To supply them: set the mirror root "
            f"(config key 'mirror' or environment variable {MIRROR_ENV}) to a folder laid out as "
            "<mirror>/<host>/<url path>, or copy each file to its cache path above, or run with network access."
        )
    return records


def install(config: dict[str, Any], store: str | Path, raw_dir: str | Path) -> list[Path]:
    """Copy every verified URL file from the cache `store` to the run's `raw_dir`, where later stages read it.

    The run's copies are the retrieve rule's outputs, which Snakemake deletes before a rerun and after a failure;
    the store is no rule's output, so a failed or repeated retrieval never removes a verified file from it.
    """
    copied = []
    for item in source_files(config):
        if item.url:
            target = item.local_path(raw_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item.local_path(store), target)
            copied.append(target)
    return copied
