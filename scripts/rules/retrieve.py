"""Rule ``retrieve``: every source file verified into the cache (SHA-256), copied to the run, and its origin."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

from scripts.common import LOG, run_rule
from scripts.retrieve import install, retrieve_all


def main(smk: Any) -> None:
    """Retrieve every file and write the retrieval log (origin of each file)."""
    sources = {"sources": {name: {"files": files} for name, files in smk.params.files.items()},
               "mirror": smk.params.mirror}
    records = retrieve_all(sources, smk.params.store, allow_network=smk.params.allow_network)
    for record in records:
        LOG.info("%s: %s from %s", record["source"], record["file"], record["origin"])
    copied = install(sources, smk.params.store, smk.params.raw_dir)
    LOG.info("%d verified file(s) copied from the cache %s to %s", len(copied), smk.params.store, smk.params.raw_dir)
    Path(smk.output.log_table).parent.mkdir(parents=True, exist_ok=True)
    lines = ["source\tfile\torigin"] + [f"{r['source']}\t{r['file']}\t{r['origin']}" for r in records]
    Path(smk.output.log_table).write_text("\n".join(lines) + "\n", encoding="utf-8")


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
