"""Rule ``marginal_effects``: the centralities' marginal effects at each moderator's quartiles (table) and across
its range (figures), from the moderation specs' JSONs: per moderator one figure of its cross-section specs (one
line per shock) and one of its panel specs (one line per shock window)."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from pathlib import Path
from typing import Any

from scripts.common import read_results, run_rule
from scripts.figures import marginal_effects_plot
from scripts.render import write_all
from scripts.tables import marginal_effects_table

NOTE = ("Cross-section specs: the effect of a 1-SD higher centrality on the resilience measure; panel specs: on "
        "growth (percentage points) in each shock's window (c_x_post: the main shock's, c_x_<shock>: a named "
        "shock's). At the moderator's 25th, 50th and 75th percentile in the spec's sample (β_c + β_cm·(m − m̄)/s_m), "
        "SE from the spec's covariance; * p < 0.10, ** p < 0.05, *** p < 0.01.")


def cross_section_series(models: list[dict[str, Any]], aliases: list[str], main_shock: str) -> list:
    """One line per spec, labelled by its shock and measure (by its name where those do not tell specs apart)."""
    labels = [f"{main_shock if m['spec']['shock'] == 'none' else m['spec']['shock']} · {m['spec']['measure']}"
              for m in models]
    if len(set(labels)) < len(labels):
        labels = [m["model"] for m in models]
    return [(label, m["marginal_effects"], {a: a for a in aliases}) for label, m in zip(labels, models)]


def panel_series(models: list[dict[str, Any]], aliases: list[str], main_shock: str) -> list:
    """One line per spec and shock window (the terms c_x_<window> of the window effects)."""
    series = []
    for m in models:
        grid = m["marginal_effects"]["grid"]
        windows = sorted({term.removeprefix(f"{a}_x_") for a in aliases for term in grid if term.startswith(f"{a}_x_")},
                         key=lambda w: (w != "post", w))
        prefix = f"{m['model']}: " if len(models) > 1 else ""
        series += [(f"{prefix}{main_shock if w == 'post' else w} window", m["marginal_effects"],
                    {a: f"{a}_x_{w}" for a in aliases}) for w in windows]
    return series


def main(smk: Any) -> None:
    p = smk.params
    names = [name for groups in (p.cross_section, p.panel) for specs in groups.values() for name in specs]
    models = dict(zip(names, read_results(smk.input.models, names)))
    demo = "DEMO (synthetic): " if p.demo else ""
    table, long = marginal_effects_table([models[name] for name in names])
    write_all(table, Path(smk.output.table).with_suffix(""),
              f"{demo}Marginal effects of the centralities at the moderator's quartiles", [NOTE], csv=long)
    figures = iter(smk.output.figures)
    for kind, groups, build, ylabel in (
            ("", p.cross_section, cross_section_series, "effect of {} centrality (95% CI)"),
            (" (panel)", p.panel, panel_series, "growth effect of {} centrality, pp (95% CI)")):
        for moderator, specs in groups.items():
            chosen = [models[name] for name in specs]
            unit = "a 1-SD higher" if chosen[0].get("standardized", True) else "one unit more"
            marginal_effects_plot(build(chosen, p.aliases, p.main_shock), p.aliases, p.moderator_labels[moderator],
                                  ylabel.format(unit), Path(next(figures)).with_suffix(""),
                                  f"{demo}Centrality effects across {moderator}{kind}")


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
