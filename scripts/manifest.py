"""Audit bundle: ``results/<run>/MANIFEST.json`` and its verification (``make verify``).

The manifest records every raw input (URL or path, SHA-256 — pinned, or the file's own when none is pinned —
licence, citation); every output under the run folder and under the shared stage folders the run read
(``results/shared/<stage>/<key>``, each output marked with its ``stage``; ``stages`` maps each stage to its folder),
with SHA-256, bytes, producing rule and script; every job as Snakemake ran it (rule, wildcards, resolved input files
with their SHA-256, params values, outputs: from the provenance record each job writes beside its log); each rule's
script, params names and output patterns; the config as run and the overlays (``--configfile``) it was merged from,
with their SHA-256; the installed versions of the pinned packages; the git commit; and a map from every table and
figure to its rule and script. No timestamps: two runs of the same commit write the same bytes. ``trace`` walks the
jobs back from one output to the raw sources.
"""
import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from scripts.common import InputError, format_rows, sha256_of
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


def job_records(folders: list[Path], rules: list[dict[str, Any]], root: Path) -> list[dict[str, Any]]:
    """The provenance records of the jobs that made the current outputs in `folders` (written beside each job's log
    by scripts.common.run_rule): when several records claim a file (a spec moved to another batch, an output moved to
    another rule), the newest wins and the others lose it; records of rules this workflow no longer has, or whose
    files are all gone or reclaimed, are left out."""
    names = {rule["name"] for rule in rules}
    paths = sorted((p for folder in folders for p in folder.glob("logs/**/*.provenance.json")),
                   key=lambda p: (p.stat().st_mtime_ns, p.as_posix()))
    records = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    owner = {}
    for k, record in enumerate(records):
        if record["rule"] in names:
            owner |= {out: k for out in record["outputs"] if (root / out).is_file()}
    kept = sorted(set(owner.values()))
    owned = [{**records[k], "outputs": {out: digest for out, digest in records[k]["outputs"].items()
                                        if owner.get(out) == k}} for k in kept]
    return sorted(owned, key=lambda r: (r["rule"], sorted(r["outputs"])))


def edited_outputs(records: list[dict[str, Any]], hashes: dict[str, str]) -> dict[str, str]:
    """Output → producing rule, for every output whose bytes differ from what its job wrote (edited by hand)."""
    return {out: record["rule"] for record in records for out, digest in record["outputs"].items()
            if out in hashes and hashes[out] != digest}


def folder_outputs(folder: Path, root: Path, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every result file under `folder` (logs, benchmarks, the manifest and the HTML report aside), sorted, with
    SHA-256, bytes and the rule that makes it."""
    outputs = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if path.name in ("MANIFEST.json", "report.html") or any(part in SKIPPED_DIRS for part in path.relative_to(folder).parts):
            continue
        outputs.append({"path": relative, "sha256": sha256_of(path), "bytes": path.stat().st_size,
                        **producer(relative, rules)})
    return outputs


def build_manifest(config: dict[str, Any], run_dir: Path, raw_dir: Path, rules: list[dict[str, Any]],
                   root: Path, stages: dict[str, str]) -> dict[str, Any]:
    """The manifest as a dict (see the module docstring); `stages` maps each shared stage the run read to its folder.
    An output edited after its job wrote it is an InputError naming the command that rebuilds it (hashing it would
    launder the edit into the audit trail)."""
    run_dir = root / run_dir       # an absolute run_dir stays as it is
    outputs = folder_outputs(run_dir, root, rules)
    for stage, folder in sorted(stages.items()):
        outputs += [{**o, "stage": stage} for o in folder_outputs(root / folder, root, rules)]
    hashes = {o["path"]: o["sha256"] for o in outputs}
    jobs = job_records([run_dir, *(root / folder for folder in sorted(stages.values()))], rules, root)
    edited = edited_outputs(jobs, hashes)
    if edited:
        raise InputError(f"{len(edited)} output(s) differ from what their rule wrote (edited after the run?): "
                         f"{format_rows(f'{path} (rule {rule})' for path, rule in edited.items())}. The manifest is not "
                         "written over them; rebuild them (add the --configfile you ran with): snakemake --cores N "
                         f"--forcerun {' '.join(sorted(set(edited.values())))}")
    shown = [o for o in outputs if o["path"].split("/")[2] in ("tables", "figures")]
    return {"run": config["run"], "demo": bool(config["demo"]["enabled"]), "git": git_state(root),
            "python": sys.version.split()[0],
            "config": config, "stages": dict(sorted(stages.items())), "inputs": source_inputs(config, raw_dir, root),
            "outputs": outputs,
            "jobs": [job_entry(job, hashes, root) for job in jobs],
            "rules": {r["name"]: {k: r[k] for k in ("script", "params", "outputs")} for r in rules},
            "tables_figures": [{"file": o["path"], "rule": o.get("rule"), "script": o.get("script")} for o in shown]}


def source_inputs(config: dict[str, Any], raw_dir: Path, root: Path) -> list[dict[str, Any]]:
    """Every raw file with its origin (URL or path), licence and citation, and its SHA-256: the pinned one, or the
    file's own hash when the config pins none (``pinned: false``; verify then checks the file did not change)."""
    if config["demo"]["enabled"]:
        return []
    inputs = []
    for item in source_files(config):
        spec, local = config["sources"][item.source], item.local_path(raw_dir)
        digest = item.sha256 or (sha256_of(root / local) if (root / local).is_file() else None)
        inputs.append({"source": item.source, "url": item.url, "path": item.path, "sha256": digest,
                       "pinned": item.sha256 is not None, "local_path": str(local), "license": spec["license"],
                       "citation": spec["citation"]})
    return inputs


def job_entry(job: dict[str, Any], hashes: dict[str, str], root: Path) -> dict[str, Any]:
    """A job record with the SHA-256 of each input file (run outputs from the manifest, other files hashed here)."""
    def digest(path: str) -> str | None:
        if path not in hashes:
            hashes[path] = sha256_of(root / path) if (root / path).is_file() else None
        return hashes[path]

    return {**job, "inputs": [{"path": path, "sha256": digest(path)} for path in job["inputs"]]}


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


def trace(manifest: dict[str, Any], target: str) -> list[str]:
    """An output's lineage as indented lines: the job that made it (rule, script, wildcards, params), its inputs
    with SHA-256, and depth-first the jobs that made those inputs, down to the raw sources (URL or path and pinned
    hash). Each job is shown once; later mentions say "(above)"."""
    made_by = {out: job for job in manifest["jobs"] for out in job["outputs"]}
    sources = {item["local_path"]: item for item in manifest["inputs"]}
    scripts = {name: rule["script"] for name, rule in manifest["rules"].items()}
    if target not in made_by:
        raise InputError(f"{target}: no job of this manifest made it; give a path under results/{manifest['run']}/ "
                         "as listed in MANIFEST.json (outputs).")
    lines: list[str] = []
    shown: set[int] = set()

    def visit(path: str, depth: int) -> None:
        pad = "  " * depth
        job = made_by.get(path)
        if job is None:
            return
        if id(job) in shown:
            lines.append(f"{pad}  made by rule {job['rule']} (above)")
            return
        shown.add(id(job))
        wildcards = ", ".join(f"{k}={v}" for k, v in job["wildcards"].items())
        lines.append(f"{pad}  made by rule {job['rule']}{f' [{wildcards}]' if wildcards else ''} "
                     f"(script {scripts.get(job['rule'], '?')})")
        for name, value in job["params"].items():
            text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
            lines.append(f"{pad}    param {name} = {text if len(text) <= 160 else text[:157] + '...'}")
        code = [item["path"] for item in job["inputs"] if item["path"].startswith("scripts/")]
        if code:
            lines.append(f"{pad}    code {', '.join(code)} (git {manifest['git']['commit'] or 'unknown'}; "
                         "hashes in jobs)")
        for item in (i for i in job["inputs"] if not i["path"].startswith("scripts/")):
            origin = sources.get(item["path"])
            where = f" <- {origin['url'] or origin['path']} (pinned {origin['sha256']})" if origin else ""
            lines.append(f"{pad}    input {item['path']} sha256 {item['sha256']}{where}")
            visit(item["path"], depth + 2)

    lines.append(f"{target} sha256 {next(o['sha256'] for o in manifest['outputs'] if o['path'] == target)}")
    visit(target, 0)
    return lines


def cli(argv: list[str]) -> int:
    """``python -m scripts.manifest verify <MANIFEST.json>``: 0 if every hash matches, else 1 with a list and the
    command that rebuilds what differs (Snakemake sees no reason to remake an edited output).
    ``python -m scripts.manifest trace <MANIFEST.json> <output>``: the output's lineage (see trace)."""
    if not (len(argv) == 2 and argv[0] == "verify" or len(argv) == 3 and argv[0] == "trace"):
        print("usage: python -m scripts.manifest verify results/<run>/MANIFEST.json\n"
              "       python -m scripts.manifest trace results/<run>/MANIFEST.json results/<run>/<file>", file=sys.stderr)
        return 2
    manifest = Path(argv[1])
    if not manifest.is_file():
        print(f"{manifest}: no manifest; run the workflow first (snakemake --cores N).", file=sys.stderr)
        return 2
    if argv[0] == "trace":
        try:
            print("\n".join(trace(json.loads(manifest.read_text(encoding="utf-8")), argv[2])))
        except InputError as err:
            print(err, file=sys.stderr)
            return 1
        return 0
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
