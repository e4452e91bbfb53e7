# Audit bundle: MANIFEST.json over every output of the run (after everything else). It records the whole
# config, so it is the one rule that every key reruns.
def rule_descriptions():
    """Name, script, params names and output patterns of every rule (the jobs' resolved inputs and params values are
    in their provenance records, which the manifest collects)."""
    described = []
    for rule in workflow.rules:
        if rule.name in ("all", "manifest"):
            continue
        described.append(
            {
                "name": rule.name,
                "script": str(rule.script or "").replace("../../", ""),
                "params": list(rule.params.keys()),
                "outputs": [str(o) for o in rule.output],
            }
        )
    return described


rule manifest:
    input:
        JOB_OUTPUTS,  # one file per job: the manifest runs after every job (it scans the folders, not its inputs)
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
        stages=STAGES,
        config=config,
        overlays=[os.path.relpath(path) for path in workflow.overwrite_configfiles],
        rules=rule_descriptions(),
    script:
        entry("manifest")
