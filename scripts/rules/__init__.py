"""Rule entry points: one module per Snakemake rule (workflow/rules/*.smk ``script:``).

Each reads its rule's inputs, calls the library (the other modules of ``scripts``), writes the outputs and logs
what it decided. It takes its configuration only from the rule's named ``params`` (never from the config object),
so a config edit reruns exactly the rules whose params it changes.
"""
