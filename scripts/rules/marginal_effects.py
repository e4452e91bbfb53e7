"""Rule ``marginal_effects``: the centralities' marginal effects at each moderator's quartiles (table) and across
its range (one figure per moderator, one line per spec, e.g. per shock), from the moderation specs' JSONs."""
from pathlib import Path
from typing import Any

from scripts.common import read_results, run_rule
from scripts.figures import marginal_effects_plot
from scripts.render import write_all
from scripts.tables import marginal_effects_table


def series_label(model: dict[str, Any], main_shock: str) -> str:
    """A spec's line in the figure: its shock and measure (the spec name when they do not tell specs apart)."""
    spec = model["spec"]
    return f"{main_shock if spec['shock'] == 'none' else spec['shock']} · {spec['measure']}"


def main(smk: Any) -> None:
    p = smk.params
    names = [name for specs in p.moderated.values() for name in specs]
    models = dict(zip(names, read_results(smk.input.models, names)))
    demo = "DEMO (synthetic): " if p.demo else ""
    table, long = marginal_effects_table(list(models.values()))
    write_all(table, Path(smk.output.table).with_suffix(""), f"{demo}Marginal effects of the centralities at the "
              "moderator's quartiles",
              ["Effect of a 1-SD higher centrality on the measure at the moderator's 25th, 50th and 75th percentile "
               "in the spec's sample (β_c + β_cm·(m − m̄)/s_m), SE from the spec's covariance; "
               "* p < 0.10, ** p < 0.05, *** p < 0.01."], csv=long)
    for (moderator, specs), path in zip(p.moderated.items(), smk.output.figures):
        chosen = [models[name] for name in specs]
        labels = [series_label(m, p.main_shock) for m in chosen]
        if len(set(labels)) < len(labels):
            labels = list(specs)
        marginal_effects_plot(chosen, p.aliases, labels, Path(path).with_suffix(""),
                              f"{demo}Centrality effects across {moderator}")


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
