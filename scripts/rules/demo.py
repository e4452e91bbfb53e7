"""Rule ``panel`` of the demo: the synthetic panel, cities and attrition, and the planted truth."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

from typing import Any

from scripts.common import LOG, run_rule, write_json
from scripts.demo import BASE_GAP, demo_panel, event_study_truth
from scripts.panel import write_outputs


def main(smk: Any) -> None:
    """Write the demo panel, cities and attrition, plus the planted truth."""
    p = smk.params
    settings = {"seed": p.seed, "years": p.years, "variables": p.variables, "demo": p.demo,
                "resilience": p.resilience, "models": p.models, "network": p.network, "centrality": p.centrality}
    panel, cities, attrition, truth = demo_panel(settings)
    LOG.info("demo: %d synthetic cities × %d years; planted effects per SD %s", len(cities), panel["year"].nunique(),
             p.demo["effects"])
    write_outputs(panel, cities, attrition, smk.output, smk.params.consistency)
    write_json({"label": "SYNTHETIC DEMO DATA", "base_gap": BASE_GAP, "effects_per_sd": p.demo["effects"],
                "recovery_effects_per_sd": {k: v / 2 for k, v in p.demo["effects"].items()},
                "named_shock_effects_per_sd": {name: {k: -v for k, v in p.demo["effects"].items()}
                                               for name in p.resilience.get("shocks", {})},
                "event_study_effects_pp": event_study_truth(settings),
                "moderation_effects_per_sd": p.demo.get("moderation", {}),
                "noise_sd": p.demo["noise_sd"]}, smk.output.truth)


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
