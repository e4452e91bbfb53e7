"""Rule entry (scripts.common.run_rule): one message instead of a traceback, and a provenance record per job."""
import json
from types import SimpleNamespace

import pytest

from scripts.common import provenance_path, run_rule, sha256_of


class Named(list):
    """A Snakemake Namedlist stand-in: a list with .items() over names."""

    def __init__(self, values=(), names=None):
        super().__init__(values)
        self.names = dict(names or {})

    def items(self):
        return self.names.items()


def job(tmp_path, output):
    return SimpleNamespace(rule="tables", log=[str(tmp_path / "logs" / "tables.log")], input=Named(["in.csv"]),
                           output=Named([str(output)]), params=Named(names={"digits": 3}), wildcards=Named())


def test_an_unwritable_folder_is_one_message(tmp_path, capsys):
    def main(smk):
        raise PermissionError(13, "Permission denied", "results/real/tables/regression.md")

    with pytest.raises(SystemExit) as stop:
        run_rule(main, job(tmp_path, tmp_path / "out.md"))
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "rule 'tables' cannot write results/real/tables/regression.md (Permission denied)" in err
    assert "Traceback" not in err


def test_each_job_records_its_inputs_params_and_output_hashes(tmp_path):
    output = tmp_path / "out.md"
    run_rule(lambda smk: output.write_text("| a |\n", encoding="utf-8"), job(tmp_path, output))
    record = json.loads(provenance_path(tmp_path / "logs" / "tables.log").read_text(encoding="utf-8"))
    assert record == {"rule": "tables", "wildcards": {}, "inputs": ["in.csv"], "params": {"digits": 3},
                      "outputs": {str(output): sha256_of(output)}}
