"""Recorded results and asserted claims: the machinery, and every results file the book reads."""

from __future__ import annotations

import json
import math
import re

import nbformat
import pytest
from notebook_tools import NOTEBOOKS, ROOT, cells, source

from lstm_course import claims, results

RESULTS = ROOT / "results"
_RECORDED_CALL = re.compile(
    r"""recorded\(\s*["']([\w./-]+)["']\s*\)"""
    r"""(?:\s*\.glue\((?:[^)]*?prefix\s*=\s*["'](\w+)["'])?)?"""
)
_GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`(\w+)")


def test_a_false_claim_fails_naming_the_claim_and_its_numbers():
    claims.claim("LSTM 的验证困惑度低于基线", 3.6 < 3.8, lstm_ppl=3.6, ngram_ppl=3.8)
    with pytest.raises(claims.ClaimError, match=r"LSTM 的验证困惑度低于基线.*lstm_ppl=3\.9.*ngram_ppl=3\.8"):
        claims.claim("LSTM 的验证困惑度低于基线", 3.9 < 3.8, lstm_ppl=3.9, ngram_ppl=3.8)


def test_glue_records_plain_values_when_asked(tmp_path, monkeypatch):
    import numpy as np

    target = tmp_path / "values.json"
    monkeypatch.setenv(claims.RECORD_ENV, str(target))
    assert claims.glue("acc", np.float32(0.5)) == np.float32(0.5)
    claims.glue("n", np.int64(7))
    claims.glue("full_acc", 0.9)  # recorded values are never recorded again
    claims.glue("f64", np.float64(0.25))  # a float subclass whose repr is np.float64(...)
    recorded = json.loads(target.read_text())
    assert recorded == {"acc": 0.5, "n": 7, "f64": 0.25}
    assert type(claims._plain(np.float64(0.25))) is float and repr(claims._plain(np.float64(0.25))) == "0.25"
    with pytest.raises(claims.ClaimError, match="non-finite"):
        claims.glue("bad", math.nan)
    with pytest.raises(ValueError, match="identifier"):
        claims.glue("not a name", 1)


def test_write_and_load_round_trip_and_refuse_incomplete(tmp_path):
    prov = results.provenance(
        command="lstm-course reproduce x", wall_seconds=12.3, device="cpu", profile="full", threads=1, root=ROOT
    )
    path = results.write_results("chx", "01_page", {"acc": 0.93, "n": 5}, prov, folder=tmp_path)
    record = results.load(path)
    assert record["acc"] == 0.93 and record.provenance["commit"] != ""
    assert "完整配置" in record.provenance_line() and "12 秒" in record.provenance_line()
    with pytest.raises(results.ResultsError, match="no value 'missing'"):
        record["missing"]
    with pytest.raises(results.ResultsError, match="lacks"):
        results.write_results("chx", "02", {"a": 1}, {"command": "x"}, folder=tmp_path)
    with pytest.raises(results.ResultsError, match="not finite"):
        results.write_results("chx", "03", {"a": math.inf}, prov, folder=tmp_path)
    assert not list(tmp_path.rglob("*.tmp"))


def test_execute_and_record_runs_a_notebook_and_writes_provenance(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import lstm_course\nfrom lstm_course.claims import glue, glue_run\n"
            "glue_run('cpu', 1)\nglue('answer', 6 * 7)\nglue('profile_name', lstm_course.profile())"
        )
    ]
    page = tmp_path / "01_probe.ipynb"
    nbformat.write(nb, page)
    path = results.execute_and_record(
        page,
        chapter="chx",
        profile="quick",
        command="probe",
        folder=tmp_path / "results",
        timeout=120,
        log=lambda *_: None,
    )
    record = results.load(path)
    assert record.values == {"answer": 42, "profile_name": "quick"}
    assert record.provenance["profile"] == "quick" and record.provenance["threads"] == 1
    assert record.provenance["wall_seconds"] > 0 and record.provenance["device"].startswith("cpu")

    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('boom')"))
    nbformat.write(nb, page)
    with pytest.raises(results.ResultsError, match="a cell failed.*boom"):
        results.execute_and_record(
            page, chapter="chx", profile="quick", command="probe", folder=tmp_path / "results", timeout=120
        )


def test_reproduce_cli_errors_are_one_line(capsys):
    from lstm_course.cli import main

    assert main(["reproduce", "ch99_nothing"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no chapter folder" in err[0]
    assert main(["reproduce", "ch07_sentiment", "--threads", "0"]) == 2


RECORDS = sorted(RESULTS.glob("*/*.json"))


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_results_file_has_complete_provenance(path):
    record = results.load(path)
    prov = record.provenance
    assert all(prov[key] not in (None, "") for key in results.PROVENANCE_KEYS if key != "dirty")
    assert re.fullmatch(r"[0-9a-f]{40}", prov["commit"]), "a results file names the commit it ran"
    assert prov["wall_seconds"] > 0 and prov["versions"].get("python")
    assert record.chapter == path.parent.name and record.name == path.stem


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_recorded_number_a_page_glues_exists(path):
    """A ``full_*`` number the prose pastes is a value of the results file glued under that prefix."""
    code = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "code")
    prose = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    prefixes: dict[str, set[str]] = {}
    for key, prefix in _RECORDED_CALL.findall(code):
        values = set(results.load(RESULTS / f"{key}.json").values) | {"provenance"}
        prefixes.setdefault(prefix or "full_", set()).update(values)
    missing = []
    for name in set(_GLUE_ROLE.findall(prose)):
        matching = [p for p in prefixes if name.startswith(p)]
        if not matching:
            if name.startswith("full_"):
                missing.append(f"{name} (the page reads no results file glued as full_*)")
            continue
        prefix = max(matching, key=len)
        if name[len(prefix) :] not in prefixes[prefix]:
            missing.append(name)
    assert not missing, f"pasted but not recorded: {sorted(missing)}"
