"""The hypotheses' configuration: which tests run, on which specs and shocks, and its validation.

Import-light (no numpy or pandas): config validation reads it while Snakemake parses the workflow; the evidence
itself is computed in scripts.hypotheses."""
import fnmatch
from typing import Any, Collection

SIGNS = {"+": 1, "-": -1, "−": -1}


def matching_specs(patterns: list[str], specs: list[str]) -> list[str]:
    """Spec names matched by names or glob patterns, in spec order, each once."""
    names = {p for p in patterns if not any(c in p for c in "*?[")}   # plain names: a set lookup, no glob matching
    globs = [p for p in patterns if p not in names]
    return [s for s in specs if s in names or any(fnmatch.fnmatchcase(s, p) for p in globs)]


def is_active(test: dict[str, Any], moderators: Collection[str]) -> bool:
    """Whether the hypothesis is tested: it needs no moderator, or one of the supplied moderators (names)."""
    return test.get("requires_moderator") is None or test["requires_moderator"] in moderators


def enabled_tests(hypotheses: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The hypotheses not switched off with ``enabled: false`` (left out of the evidence entirely)."""
    return {hid: test for hid, test in hypotheses.get("tests", {}).items() if test.get("enabled", True)}


def hypothesis_errors(hypotheses: dict[str, Any], specs: dict[str, dict[str, Any]], models: dict[str, Any],
                      shocks: Collection[str] = (), networks: Collection[str] = ()) -> list[str]:
    """Active hypotheses must name existing variables, a sign of + or −, a primary (and unflagged) spec that
    exists, and spec names that exist; glob patterns among the specs may match nothing (a switched-off group).
    The same for each of their ``shocks``, which must be keys of resilience.shocks (`shocks`); ``networks`` must
    name networks (`networks`)."""
    from scripts.specs import control_name

    errors = []
    controls = [control_name(c) for c in models["controls"]]
    aliases, moderators = list(models["centralities"]), models.get("moderators", {})
    known = {*aliases, *controls, *moderators, *(f"{a}_x_{m}" for a in aliases for m in moderators)}
    named = set(shocks)
    for hid, test in enabled_tests(hypotheses).items():
        where = f"hypotheses/tests/{hid}"
        if str(test.get("sign")) not in SIGNS:
            errors.append(f"{where}/sign: '{test.get('sign')}' is not + or −")
        if not is_active(test, moderators):
            continue
        for shock in sorted(set(test.get("shocks", {})) - named):
            errors.append(f"{where}/shocks: '{shock}' is not a key of resilience.shocks {sorted(named)}")
        errors += [error for _, shock, tested in per_shock(test, "")[1:]
                   for error in hypothesis_errors({"tests": {f"{hid}/shocks/{shock}": tested}}, specs, models,
                                                  networks=networks)]
        if test["variable"] not in known:
            errors.append(f"{where}/variable: '{test['variable']}' is not a model term; use a centrality alias "
                          f"{aliases}, a control {controls} or <alias>_x_<moderator>")
        errors += [f"{where}/networks: '{net}' is not a network" for net in test.get("networks", [])
                   if net not in networks]
        exact = [p for p in test["specs"] if not any(ch in p for ch in "*?[")]   # a glob may match nothing
        for pattern in [*exact, test["primary"], *([test["unflagged"]] if test.get("unflagged") else [])]:
            if not matching_specs([pattern], list(specs)):
                errors.append(f"{where}: spec '{pattern}' matches no model spec (models.specs expands to "
                              f"{len(specs)} specs, e.g. {list(specs)[:5]})")
    return errors


def per_shock(test: dict[str, Any], main: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(shock label, named shock or None for the main one, the test with that shock's overrides) of a hypothesis.
    A shock keeps the statement, sign and variable but not the main shock's unflagged spec (it gives its own)."""
    inherited = {k: v for k, v in test.items() if k not in ("unflagged", "shocks")}
    return [(main, None, test), *((shock, shock, {**inherited, **overrides})
                                  for shock, overrides in test.get("shocks", {}).items())]
