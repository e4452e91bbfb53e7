"""Rule ``manifest``: MANIFEST.json over every input and output of the run (``make verify`` checks it)."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

from scripts.common import run_rule, sha256_of, write_json
from scripts.manifest import build_manifest, package_versions


def main(smk: Any) -> None:
    """Write the manifest of the run."""
    root = Path(".").resolve()
    run_dir = Path(smk.output.manifest).parent
    manifest = build_manifest(smk.params.config, run_dir, Path(smk.params.raw_dir), smk.params.rules, root,
                              smk.params.stages)
    manifest["packages"] = package_versions(Path(smk.input.requirements))
    manifest["overlays"] = [{"path": path, "sha256": sha256_of(path) if Path(path).is_file() else None}
                            for path in smk.params.overlays]
    write_json(manifest, smk.output.manifest)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
