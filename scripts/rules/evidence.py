"""Rule ``evidence``: the hypotheses' evidence table (every format), the estimates behind it, and its figure."""
from scripts.warm import hand_over

hand_over(globals())  # a warm run's job: a fork of the warm process runs it, and this process exits here

import json
from pathlib import Path
from typing import Any

from scripts.common import LOG, run_rule
from scripts.hypotheses import display, evidence, evidence_plot
from scripts.render import write_all


def main(smk: Any) -> None:
    """Evidence tables (every format; CSV = every estimate with its result file) and figure."""
    p = smk.params
    results, files = {}, {}
    for path in smk.input.models:
        result = json.loads(Path(path).read_text(encoding="utf-8"))
        results[result["model"]] = {**result, "spec_aliases": p.aliases}
        files[result["model"]] = str(path)
    summary, long = evidence(p.hypotheses, results, files, p.moderators, p.main_shock)
    for row in summary.itertuples(index=False):
        LOG.info("%s (%s): %s", row.hypothesis, row.shock, row.verdict)
    demo = "DEMO (synthetic): " if p.demo else ""
    decision = p.hypotheses["decision"]
    notes = [f"Verdict: primary estimate of the expected sign with {decision['correction']}-adjusted p < "
             f"{decision['alpha']} within each family of active hypotheses (all their shocks), and ≥ {decision['min_share']:.0%} of the specs "
             "significant with that sign (else 'fragile'); 'contradicted': significant opposite sign.",
             "w/o flagged: the same rule with the spec that leaves out cities flagged for data quality as primary.",
             "· proxy: the moderator stands for the seed's concept through a proxy (column proxy of evidence.csv; "
             "README, hypotheses).",
             "Estimates: log points of the resilience measure per SD (panel: pp of growth per SD in the shock's window). "
             "Every estimate with its result file: evidence_estimates.csv. Source of the claims: Yao Chen (2024)."]
    stem = Path(smk.output.markdown).with_suffix("")
    write_all(display(summary), stem, f"{demo}Evidence for the seed theory's hypotheses", notes, csv=summary)
    long.to_csv(smk.output.estimates, index=False, lineterminator="\n")
    evidence_plot(long, summary, Path(smk.output.figure).with_suffix(""), f"{demo}Evidence by hypothesis")


if "snakemake" in globals():
    run_rule(main, snakemake)  # type: ignore[name-defined]  # noqa: F821
