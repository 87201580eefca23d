"""Schemathesis against the API's own OpenAPI document, in process: every
operation, as a coordinator and as a trainer (a bearer token in each case),
with data that fits the schemas (path ids of the world's real objects, so that
bodies reach them) and data that does not (anything in every place). Every
answer is below 500 and matches what the document says of its status.

Bounded and repeatable: a fixed number of examples per operation, role and
mode, derandomized (the same examples every run), no shrinking, no example
database, and a time box for the whole run (past it, each remaining operation
gets one example per role and mode). Each example runs in a savepoint undone
afterwards, so that one cannot change what the next one meets (a revoked
token, a cancelled booking).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.world import World, bearer, build_world, undone

EXAMPLES = 3  # per operation, role and generation mode
TIME_BOX_SECONDS = 60.0
ROLES = ("coordinator", "trainer")
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def world(app, make, db, now) -> World:
    return build_world(app, make, db)


def _fuzz(strategy: Any, auth: dict[str, str], db: Any, max_examples: int) -> int:
    """Run one strategy's examples; the number run. A failing check raises
    (no shrinking: the first failing example is the one reported)."""
    sent = 0

    @settings(max_examples=max_examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        case.headers = {**(case.headers or {}), **auth}
        with undone(db):
            response = case.call()
        case.validate_response(response, checks=CHECKS)

    run()
    return sent


def _summary(failure: BaseException) -> str:
    """What failed, in a few lines: each check's title, the schema's place
    and the request (schemathesis' full report is long)."""
    lines = []
    for sub in getattr(failure, "exceptions", None) or [failure]:
        text = [line.strip() for line in str(sub).splitlines() if line.strip()]
        where = [line for line in text if line.startswith(("Schema at", "curl", "[5"))]
        lines.append(f"{type(sub).__name__}: {' | '.join(text[:2] + where)}"[:400])
    curl = [line.strip() for line in str(failure).splitlines() if "curl -X" in line]
    return "\n".join(dict.fromkeys(lines + curl[:1]))


def test_api_conforms_to_its_openapi_document(app, db, world, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {role: bearer(app, db, world[role]) for role in ROLES}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    started = time.monotonic()
    examples = 0
    failures: dict[str, str] = {}

    for operation in operations:
        path_ids = {p.name: world.ids[p.name] for p in operation.path_parameters}
        late = time.monotonic() - started > TIME_BOX_SECONDS
        for role in ROLES:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                label = f"{operation.label} as {role}, {mode.value}"
                fixed = path_ids if mode is GenerationMode.POSITIVE else None
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

                try:
                    examples += _fuzz(strategy, headers[role], db, 1 if late else EXAMPLES)
                except (Exception, FailureGroup) as failure:  # reported together below
                    failures[label] = _summary(failure)


    elapsed = time.monotonic() - started
    print(f"schemathesis: {examples} examples over {len(operations)} operations "
          f"in {elapsed:.1f} s, {len(failures)} failing")
    assert failures == {}, "\n\n".join(f"== {k}\n{v}" for k, v in failures.items())
    assert examples >= len(operations) * len(ROLES) * 2
