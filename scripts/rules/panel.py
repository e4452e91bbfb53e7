"""Rule ``panel``: the city × year panel, the cities (points and boundaries) and the join attrition."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

from scripts.common import LOG, run_rule
from scripts.panel import build_panel, write_outputs


def main(smk: Any) -> None:
    """Build the panel from the retrieved files."""
    settings = {key: smk.params[key] for key in ("years", "geography", "sources", "variables", "price_index",
                                                  "derived") if smk.params[key] is not None}
    panel, cities, attrition = build_panel(settings, smk.params.raw_dir, list(smk.input.crosswalk))
    LOG.info("panel: %d cities × %d years, %d variables", panel["city_code"].nunique(), panel["year"].nunique(),
             panel.shape[1] - 3)
    for row in attrition.itertuples(index=False):
        LOG.info("attrition: %s", " | ".join(str(v) for v in row))
    write_outputs(panel, cities, attrition, smk.output, smk.params.consistency)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
