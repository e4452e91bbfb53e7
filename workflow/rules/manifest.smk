# Audit bundle: MANIFEST.json over every output of the run (after everything else). It records the whole
# config, so it is the one rule that every key reruns.
import re


def rule_descriptions():
    """Name, script, input patterns (or input-function names), params names and output patterns of every rule."""
    described = []
    for rule in workflow.rules:
        if rule.name in ("all", "manifest"):
            continue
        inputs = [re.sub(r" at 0x[0-9a-f]+", "", str(i)) for i in rule.input]  # input functions: no address
        script = str(rule.script or "").replace("../../", "")
        described.append(
            {
                "name": rule.name,
                "script": script,
                "inputs": inputs,
                "params": list(rule.params.keys()),
                "outputs": [str(o) for o in rule.output],
            }
        )
    return described


rule manifest:
    input:
        FINAL_TARGETS,
        requirements="requirements.txt",
        code=code("manifest"),
    output:
        manifest=f"{RUN}/MANIFEST.json",
    log:
        f"{RUN}/logs/manifest.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        raw_dir=RAW,
        config=config,
        rules=rule_descriptions(),
    script:
        entry("manifest")
