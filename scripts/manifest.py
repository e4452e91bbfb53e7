"""Audit bundle: ``results/<run>/MANIFEST.json`` and its verification (``make verify``).

The manifest records every input (URL or path, pinned SHA-256, licence, citation), every output under the run
folder (SHA-256, bytes, producing rule and script, matched from the rules' output patterns), each rule's inputs and
params names, the config as run, the installed versions of the pinned packages, the git commit, and a map from
every table and figure to its rule and script. No timestamps: two runs of the same commit write the same bytes.
"""
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from scripts.common import sha256_of
from scripts.retrieve import source_files

SKIPPED_DIRS = ("logs", "benchmarks")


def pattern_regex(pattern: str) -> re.Pattern:
    """Regex for a Snakemake output pattern: each {wildcard} matches one path segment part."""
    parts = re.split(r"(\{[^}]+\})", pattern)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def producer(path: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The rule whose output pattern matches `path` (first match); a file no rule makes is flagged as stale."""
    for rule in rules:
        if any(pattern_regex(p).match(path) for p in rule["outputs"]):
            return {"rule": rule["name"], "script": rule["script"]}
    return {"rule": None, "stale": "no rule of this workflow makes this file (left over from another config?)"}


def git_state(root: Path) -> dict[str, Any]:
    """Commit and whether tracked files differ from it (None outside a git work tree)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def package_versions(requirements: Path) -> dict[str, str]:
    """Installed version of every package pinned in requirements.txt."""
    versions = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        name = line.split("==")[0].strip()
        if name and not name.startswith("#"):
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = "not installed"
    return dict(sorted(versions.items(), key=lambda kv: kv[0].lower()))


def build_manifest(config: dict[str, Any], run_dir: Path, raw_dir: Path, rules: list[dict[str, Any]],
                   root: Path) -> dict[str, Any]:
    """The manifest as a dict (see the module docstring)."""
    inputs = []
    if not config["demo"]["enabled"]:
        for item in source_files(config):
            spec = config["sources"][item.source]
            inputs.append({"source": item.source, "url": item.url, "path": item.path, "sha256": item.sha256,
                           "local_path": str(item.local_path(raw_dir)), "license": spec["license"],
                           "citation": spec["citation"]})
    outputs = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(run_dir.parent.parent).as_posix()
        if path.name in ("MANIFEST.json", "report.html") or any(part in SKIPPED_DIRS for part in path.relative_to(run_dir).parts):
            continue
        outputs.append({"path": relative, "sha256": sha256_of(path), "bytes": path.stat().st_size,
                        **producer(relative, rules)})
    shown = [o for o in outputs if o["path"].split("/")[2] in ("tables", "figures")]
    return {"run": config["run"], "demo": bool(config["demo"]["enabled"]), "git": git_state(root),
            "python": sys.version.split()[0],
            "config": config, "inputs": inputs, "outputs": outputs,
            "rules": {r["name"]: {k: r[k] for k in ("script", "inputs", "params", "outputs")} for r in rules},
            "tables_figures": [{"file": o["path"], "rule": o.get("rule"), "script": o.get("script")} for o in shown]}


def verify(manifest_path: Path, root: Path) -> dict[str, Any]:
    """Rehash the manifest's outputs and the local copies of its inputs.

    Returns the problems with outputs and with inputs, how many of each were checked, the inputs skipped (no pinned
    hash, or not present here) and the rules that make the outputs that are missing or differ.
    """
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    report: dict[str, Any] = {"outputs": [], "inputs": [], "outputs_checked": len(manifest["outputs"]),
                              "inputs_checked": 0, "inputs_skipped": [], "rules": []}
    for item in manifest["outputs"]:
        path = root / item["path"]
        if not path.is_file():
            report["outputs"].append(f"{item['path']}: missing (made by rule {item.get('rule')})")
        elif sha256_of(path) != item["sha256"]:
            report["outputs"].append(f"{item['path']}: SHA-256 differs from the manifest — edited or regenerated after "
                                     f"the run (rule {item.get('rule')})")
        else:
            continue
        if item.get("rule"):
            report["rules"].append(item["rule"])
    for item in manifest["inputs"]:
        path = root / item["local_path"] if not Path(item["local_path"]).is_absolute() else Path(item["local_path"])
        if not (path.is_file() and item["sha256"]):
            report["inputs_skipped"].append(f"{item['local_path']} ({'no pinned hash' if path.is_file() else 'absent'})")
            continue
        report["inputs_checked"] += 1
        if sha256_of(path) != item["sha256"]:
            report["inputs"].append(f"{item['local_path']}: input SHA-256 differs from the pinned {item['sha256']}")
    report["rules"] = sorted(set(report["rules"]))
    return report


def cli(argv: list[str]) -> int:
    """``python -m scripts.manifest verify <MANIFEST.json>``: 0 if every hash matches, else 1 with a list and the
    command that rebuilds what differs (a plain rerun would only re-hash an edited output, Snakemake sees no reason to
    remake it)."""
    if len(argv) != 2 or argv[0] != "verify":
        print("usage: python -m scripts.manifest verify results/<run>/MANIFEST.json", file=sys.stderr)
        return 2
    manifest = Path(argv[1])
    if not manifest.is_file():
        print(f"{manifest}: no manifest; run the workflow first (snakemake --cores N).", file=sys.stderr)
        return 2
    report = verify(manifest, manifest.resolve().parent.parent.parent)
    for problem in [*report["outputs"], *report["inputs"]]:
        print(problem)
    for skipped in report["inputs_skipped"]:
        print(f"input not checked: {skipped}")
    total, bad = report["outputs_checked"], len(report["outputs"])
    print(f"verify: {total - bad} of {total} outputs match; {report['inputs_checked']} inputs checked, "
          f"{len(report['inputs_skipped'])} skipped; {bad + len(report['inputs'])} problem(s)")
    if report["rules"]:
        print("to rebuild them (add the --configfile you ran with): snakemake --cores N --forcerun "
              + " ".join(report["rules"]))
    return 1 if report["outputs"] or report["inputs"] else 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
