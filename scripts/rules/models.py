"""Rule ``models_<batch>`` (or ``model``): fit a batch of specs, one JSON result each."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

import pandas as pd

from scripts.common import LOG, run_rule, write_json
from scripts.estimation.fit import fit_named_spec
from scripts.quality import flagged_cities
from scripts.specs import moderator_networks


def shared_tables(paths: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """The tables every spec of the batch shares; the flagged cities only when a spec uses them, the spike flags
    only when a spec has a moderator (its spiked values are set missing)."""
    window, moderated = settings.get("flag_window"), settings.get("moderators")
    flagged, spikes = [], None
    if window or moderated:
        flags = pd.read_csv(paths.flags, dtype={"city_code": str})
        flagged = flagged_cities(flags, settings["specs"][0]["outcome"], tuple(window)) if window else []
        spikes = flags.loc[flags["flag"] == "spike", ["city_code", "year", "variable"]]
    return {"spikes": spikes, "panel": pd.read_parquet(paths.panel), "resilience": pd.read_parquet(paths.resilience),
            "placebo": pd.read_parquet(paths.placebo), "shocks": pd.read_parquet(paths.shocks),
            "cities": pd.read_parquet(paths.cities, columns=["city_code", "lon", "lat"]),   # no geometry needed
            "flagged": flagged}


def main(smk: Any) -> None:
    """Fit the specs of the job and write one JSON each; every centrality and weights file is read once."""
    settings = smk.params.settings
    tables = shared_tables(smk.input, settings)
    cache: dict[str, pd.DataFrame] = {}

    def read(path: str | None) -> pd.DataFrame:
        if path is None:
            return pd.DataFrame()
        if path not in cache:
            cache[path] = pd.read_parquet(path)
        return cache[path]

    centrality = dict(zip(smk.params.sources["networks"], smk.input.centrality))
    weights = dict(zip(smk.params.sources["weights"], smk.input.weights))
    tables["networks"] = {net: read(centrality[net]) for net in
                          moderator_networks(settings.get("moderators", {}))}   # moderators read from networks
    outputs = [smk.output.models] if isinstance(smk.output.models, str) else list(smk.output.models)
    for spec, output in zip(settings["specs"], outputs):
        instruments = spec.get("instruments", {}).get("network")
        result = fit_named_spec(spec, settings, tables, read(centrality[spec["network"]]),
                                read(weights.get(spec["weights"])), read(centrality.get(instruments)))
        dropped = {reason: len(cities) for reason, cities in result.get("dropped", {}).items() if cities}
        LOG.info("%s: %s, n = %d, SE %s; dropped %s", spec["name"], result["estimator"], result["n"],
                 result["se_type"], dropped or "none")
        write_json(result, output)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
