"""Manifest (scripts/manifest.py): unpinned user files are hashed, edited outputs are refused, jobs are resolved."""
import json
import os

import pytest

from scripts.common import InputError, sha256_of
from scripts.manifest import edited_outputs, job_records, source_inputs, verify


def test_a_user_file_without_a_pinned_hash_is_hashed_and_verified(config, tmp_path):
    export = tmp_path / "cpi.csv"
    export.write_text("Prvcnm_id,Sgnyea,Pi0101\n110000,2019,102.3\n", encoding="utf-8")
    config["sources"]["csmar_cpi"]["files"] = [{"path": str(export)}]
    entry = next(i for i in source_inputs(config, tmp_path / "raw", tmp_path) if i["source"] == "csmar_cpi")
    assert entry["sha256"] == sha256_of(export) and entry["pinned"] is False
    manifest = tmp_path / "MANIFEST.json"
    manifest.write_text(json.dumps({"outputs": [], "inputs": [entry]}), encoding="utf-8")
    assert verify(manifest, tmp_path)["inputs"] == []
    export.write_text("Prvcnm_id,Sgnyea,Pi0101\n110000,2019,99.9\n", encoding="utf-8")
    assert verify(manifest, tmp_path)["inputs"] == [f"{export}: input SHA-256 differs from the pinned {entry['sha256']}"]


def record(tmp_path, name, rule, outputs, digest="hash-"):
    path = tmp_path / "results" / "r" / "logs" / f"{name}.provenance.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rule": rule, "wildcards": {}, "inputs": [], "params": {},
                                "outputs": {out: digest + out for out in outputs}}), encoding="utf-8")


def test_job_records_keep_the_newest_claim_and_drop_gone_rules(tmp_path, monkeypatch):
    """b.json was written by an old batch, then by a new one (another hash): the new record owns it, so the old
    record's hash of b.json is no evidence of an edit (an upgraded workflow whose output moved to another rule)."""
    monkeypatch.chdir(tmp_path)
    for name in ("a.json", "b.json"):
        (tmp_path / "results" / "r" / "models").mkdir(parents=True, exist_ok=True)
        (tmp_path / "results" / "r" / "models" / name).write_text("{}", encoding="utf-8")
    record(tmp_path, "old_batch", "models_1", ["results/r/models/a.json", "results/r/models/b.json"])
    record(tmp_path, "new_batch", "models_2", ["results/r/models/b.json"], digest="new-")
    record(tmp_path, "removed", "gone_rule", ["results/r/models/a.json"])
    os.utime(tmp_path / "results/r/logs/old_batch.provenance.json", ns=(1, 1))   # older than the other records
    rules = [{"name": "models_1"}, {"name": "models_2"}]
    jobs = job_records([tmp_path / "results" / "r"], rules, tmp_path)
    assert [(j["rule"], sorted(j["outputs"])) for j in jobs] == [
        ("models_1", ["results/r/models/a.json"]), ("models_2", ["results/r/models/b.json"])]
    hashes = {"results/r/models/a.json": "hash-results/r/models/a.json",
              "results/r/models/b.json": "new-results/r/models/b.json"}
    assert edited_outputs(jobs, hashes) == {}
    hashes["results/r/models/b.json"] = "edited"
    assert edited_outputs(jobs, hashes) == {"results/r/models/b.json": "models_2"}


def test_build_manifest_refuses_an_edited_output(config, tmp_path, monkeypatch):
    from scripts.manifest import build_manifest

    monkeypatch.chdir(tmp_path)
    table = tmp_path / "results" / "r" / "tables" / "t.md"
    table.parent.mkdir(parents=True)
    table.write_text("edited\n", encoding="utf-8")
    record(tmp_path, "tables", "tables", ["results/r/tables/t.md"])
    config["demo"]["enabled"] = True
    rules = [{"name": "tables", "script": "scripts/rules/tables.py", "params": [], "outputs": ["results/r/tables/t.md"]}]
    with pytest.raises(InputError, match=r"results/r/tables/t.md \(rule tables\).*--forcerun tables"):
        build_manifest(config, tmp_path / "results" / "r", tmp_path / "raw", rules, tmp_path, {})
