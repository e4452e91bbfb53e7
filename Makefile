# Two entry points (see README): `make run` (set up + run the pipeline) and `make test` (set up + test).
PYTHON ?= python3
VENV := .venv
CORES ?= all

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	touch $@

RUN ?= real
PROFILE ?= workflow/profiles/local

.PHONY: setup run demo test verify trace report cluster
setup: $(VENV)/.installed

run: setup
	$(VENV)/bin/snakemake --cores $(CORES)

demo: setup
	$(VENV)/bin/snakemake --cores $(CORES) --configfile workflow/demo.yaml

test: setup
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile --durations=8

verify: setup
	$(VENV)/bin/python -m scripts.manifest verify results/$(RUN)/MANIFEST.json

trace: setup
	$(VENV)/bin/python -m scripts.manifest trace results/$(RUN)/MANIFEST.json $(FILE)

report: setup
	$(VENV)/bin/snakemake --report results/$(RUN)/report.html

cluster: setup
	$(VENV)/bin/python -m scripts.cluster check $(PROFILE)
	$(VENV)/bin/snakemake --profile $(PROFILE)
