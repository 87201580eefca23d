"""The README and docs/ say what the code does: the scheduler's jobs as
scheduler/jobs.py declares them, and links that work inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import Config
from scheduler.jobs import JOBS, JobSpec
from tests.conftest import ROOT

README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _every(spec: JobSpec) -> str:
    if spec.config_minutes is not None:
        minutes = getattr(Config, spec.config_minutes)
        return f"`{spec.config_minutes}` ({minutes}) minutes"
    [(unit, count)] = spec.trigger_args.items()
    return f"{count} {unit.removesuffix('s') if count == 1 else unit}"


def _section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_lists_the_jobs_of_the_scheduler() -> None:
    section = _section(README.read_text(encoding="utf-8"), "The scheduler")
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+?) \|$", section, re.MULTILINE)
    assert rows == [(spec.id, spec.description, _every(spec)) for spec in JOBS]


def test_the_run_job_command_names_every_job() -> None:
    commands = _section(README.read_text(encoding="utf-8"), "Commands")
    [row] = [line for line in commands.splitlines() if "scheduler run-job ID" in line]
    named = re.findall(r"`(\w+)`", row.split("|")[2])
    assert named == [spec.id for spec in JOBS]


def _anchors(document: Path) -> set[str]:
    """GitHub's anchors of the document's headings."""
    headings = re.findall(r"^#+ (.+)$", document.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d.relative_to(ROOT).as_posix())
def test_links_point_inside_the_repository(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    # The contract beside the repository is not shipped with it: docs/api.md is.
    assert "../shared" not in text
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # http(s), mailto: outside by design
            continue
        path, _sep, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        assert linked.is_relative_to(ROOT), target
        assert linked.exists(), target
        if anchor:
            assert anchor in _anchors(linked), target
