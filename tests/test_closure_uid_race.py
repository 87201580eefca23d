"""An import that loses a race on a closure UID: a clean 409 ``conflict``, never a 500.

The import locks its target and reads the closures it already holds by UID, so
two imports into one target never meet. A writer that skips the lock (a script,
a future entry point) can still store the same UID between the import's read
and its write; the partial unique indexes of migration 0004 then refuse the
import's row, and the service turns that refusal into a domain error, its
changes undone and the rival's closure kept.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import ORMExecuteState, Session

from booking.services.closures.imports import ImportSummary, import_closures
from booking.services.errors import Conflict
from models import AuditEntry, Closure, ClosureKind, Role
from tests.conftest import NOW, csrf_token_of

ZONE_B = (Path(__file__).parent / "data" / "zone-b.ics").read_bytes()
WINTER = "hiver-2027-zone-b@calendrier.test"
RIVAL_REASON = "Fermeture posée par un autre outil"


@contextmanager
def rival_writes_between_read_and_write(scope: dict[str, int]) -> Iterator[None]:
    """Right after the import has read its scope's closures, another writer
    stores a closure of that scope with the winter holidays' UID."""

    def rival(state: ORMExecuteState) -> Any:
        if not (state.is_select and Closure.__mapper__ in state.all_mappers):
            return None
        event.remove(Session, "do_orm_execute", rival)
        read = state.invoke_statement().freeze()  # the import's read: the UID is free
        state.session.connection().execute(insert(Closure.__table__).values(
            **scope, start_at=datetime(2027, 3, 1, tzinfo=UTC),
            end_at=datetime(2027, 3, 2, tzinfo=UTC), kind=ClosureKind.OTHER,
            reason=RIVAL_REASON, source_uid=WINTER, created_at=NOW))
        return read()

    event.listen(Session, "do_orm_execute", rival)
    try:
        yield
    finally:
        if event.contains(Session, "do_orm_execute", rival):
            event.remove(Session, "do_orm_execute", rival)


def closures_of(db: Session, **scope: int) -> list[tuple[str | None, str]]:
    return [(c.source_uid, c.reason) for c in db.scalars(
        select(Closure).filter_by(**scope).order_by(Closure.source_uid))]


def imports_recorded(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(AuditEntry)
                     .where(AuditEntry.action == "closure.import"))


@pytest.fixture
def scopes(make) -> dict[str, tuple[dict[str, int], Any]]:
    site = make.establishment(code="TOURS")
    machine = make.equipment(establishment=site)
    coordinator = make.user(Role.COORDINATOR, establishment=site)
    return {"establishment": ({"establishment_id": site.id}, coordinator),
            "equipment": ({"equipment_id": machine.id}, coordinator)}


@pytest.mark.parametrize("kind", ["establishment", "equipment"])
def test_a_uid_taken_meanwhile_is_a_conflict_and_nothing_of_the_import_stays(
        db, scopes, kind: str) -> None:
    scope, coordinator = scopes[kind]
    with rival_writes_between_read_and_write(scope), pytest.raises(Conflict) as refused:
        import_closures(db, actor=coordinator, data=ZONE_B, now=NOW, **scope)
    assert (refused.value.code, refused.value.status) == ("conflict", 409)
    assert refused.value.details == {"field": "file"}
    # Only the rival's closure: the import's three rows were undone together.
    assert closures_of(db, **scope) == [(WINTER, RIVAL_REASON)]
    assert imports_recorded(db) == 0
    # Importing again matches the rival's closure by its UID and updates it.
    again = import_closures(db, actor=coordinator, data=ZONE_B, now=NOW, **scope)
    assert again == ImportSummary(created=2, updated=1, unchanged=0, removed=0, skipped=1)
    assert [uid for uid, _ in closures_of(db, **scope)] == [
        "ascension-2027@calendrier.test", WINTER, "printemps-2027-zone-b@calendrier.test"]
    assert (WINTER, "Vacances d'Hiver - Zone B") in closures_of(db, **scope)


def test_the_page_shows_the_conflict_on_the_file_field(client, db, login, scopes,
                                                       now) -> None:
    scope, coordinator = scopes["establishment"]
    login(coordinator)
    token = csrf_token_of(client.get("/coordination/import").get_data(as_text=True))
    form = {"target": f"establishment-{scope['establishment_id']}", "csrf_token": token,
            "file": (io.BytesIO(ZONE_B), "zone-b.ics")}
    with rival_writes_between_read_and_write(scope):
        answer = client.post("/coordination/import", data=form,
                             content_type="multipart/form-data")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert re.search(r'id="file-error"[^>]*>\s*<p class="field-error"',
                     answer.get_data(as_text=True))
    assert closures_of(db, **scope) == []  # the page rolled the whole request back
    assert imports_recorded(db) == 0
