"""Retrieval order (cache → mirror → network), checksum rejection, and the one message for missing files."""
import hashlib

import pytest

from scripts.common import InputError
from scripts.retrieve import SourceFile, fetch, retrieve_all

URL = "https://example.org/owner/repo/commit/data/a(1).csv"
CONTENT = b"code,year,gdp\n110000,2019,1\n"
SHA = hashlib.sha256(CONTENT).hexdigest()


def config_for(mirror, files):
    return {"mirror": str(mirror) if mirror else None,
            "sources": {"s": {"reader": "city_year", "license": "x", "citation": "y", "files": files}}}


def put(root, url, content):
    path = root / "example.org" / url.split("example.org/")[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_mirror_then_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("CITYRES_MIRROR", raising=False)
    mirror, raw = tmp_path / "mirror", tmp_path / "raw"
    put(mirror, URL, CONTENT)
    item = SourceFile("s", URL, None, SHA)
    assert fetch(item, raw, mirror, allow_network=False)[0] == "mirror"
    assert item.local_path(raw).read_bytes() == CONTENT
    assert fetch(item, raw, mirror, allow_network=False)[0] == "cache"


def test_checksum_mismatch_is_rejected_and_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv("CITYRES_MIRROR", raising=False)
    mirror, raw = tmp_path / "mirror", tmp_path / "raw"
    put(mirror, URL, CONTENT + b"tampered")
    with pytest.raises(InputError, match="SHA-256 mismatch"):
        retrieve_all(config_for(mirror, [{"url": URL, "sha256": SHA}]), raw, allow_network=False)
    assert not SourceFile("s", URL, None, SHA).local_path(raw).exists()


def test_corrupt_cache_is_replaced_from_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv("CITYRES_MIRROR", raising=False)
    mirror, raw = tmp_path / "mirror", tmp_path / "raw"
    put(mirror, URL, CONTENT)
    put(raw, URL, b"corrupt")
    origin, attempts = fetch(SourceFile("s", URL, None, SHA), raw, mirror, allow_network=False)
    assert origin == "mirror" and "mismatch" in attempts[0]


def test_missing_files_listed_in_one_message(tmp_path, monkeypatch):
    monkeypatch.delenv("CITYRES_MIRROR", raising=False)
    other = URL.replace("a(1)", "b")
    cfg = config_for(tmp_path / "nowhere", [{"url": URL, "sha256": SHA}, {"url": other, "sha256": SHA}])
    with pytest.raises(InputError) as err:
        retrieve_all(cfg, tmp_path / "raw", allow_network=False)
    message = str(err.value)
    assert "2 source file(s)" in message and URL in message and other in message
    assert "CITYRES_MIRROR" in message and "nowhere" in message


def test_environment_variable_overrides_config_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "envmirror"
    put(mirror, URL, CONTENT)
    monkeypatch.setenv("CITYRES_MIRROR", str(mirror))
    records = retrieve_all(config_for(tmp_path / "wrong", [{"url": URL, "sha256": SHA}]), tmp_path / "raw",
                           allow_network=False)
    assert records[0]["origin"] == "mirror"


def test_user_file_is_verified_in_place(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(CONTENT)
    assert fetch(SourceFile("s", None, str(path), SHA), tmp_path / "raw", None)[0] == "user file"
    bad = SourceFile("s", None, str(path), "0" * 64)
    assert fetch(bad, tmp_path / "raw", None)[0] == ""
    assert path.read_bytes() == CONTENT


def test_a_wrong_pin_leaves_the_cached_file_in_place(tmp_path, monkeypatch):
    monkeypatch.delenv("CITYRES_MIRROR", raising=False)
    raw = tmp_path / "raw"
    cached = put(raw, URL, CONTENT)
    origin, attempts = fetch(SourceFile("s", URL, None, "0" * 64), raw, None, allow_network=False)
    assert origin == "" and "kept, not used" in attempts[0] and cached.read_bytes() == CONTENT


def test_install_copies_verified_files_to_the_run(tmp_path):
    from scripts.retrieve import install

    store, run_raw = tmp_path / "store", tmp_path / "results" / "x" / "raw"
    put(store, URL, CONTENT)
    copied = install(config_for(None, [{"url": URL, "sha256": SHA}]), store, run_raw)
    assert [p.read_bytes() for p in copied] == [CONTENT] and copied[0].is_relative_to(run_raw)
    assert SourceFile("s", URL, None, SHA).local_path(store).read_bytes() == CONTENT


@pytest.mark.parametrize("url", ["https://example.org/../../../../x.txt", "https://example.org/a/%2e%2e/%2e%2e/../x"])
def test_a_url_leading_outside_the_cache_is_refused(tmp_path, url):
    with pytest.raises(InputError, match="leads outside"):
        SourceFile("s", url, None, SHA).local_path(tmp_path / "raw")
