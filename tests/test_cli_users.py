"""``flask users create`` as API.md gives it: good input creates, bad input writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from booking.auth.passwords import verify_password
from models import AuditEntry, User


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _create(app, *args: str):
    return app.test_cli_runner().invoke(args=["users", "create", *args])


def test_creates_a_coordinator_with_hashed_password(app, db, make) -> None:
    make.establishment(code="TRS-PHA")
    result = _create(app, "--email", "Coord@Example.org", "--name", "Alice",
                     "--role", "coordinator", "--password", "s3cret-passphrase",
                     "--establishment", "TRS-PHA")
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.email == "coord@example.org"))
    assert user is not None
    assert user.establishment.code == "TRS-PHA"
    assert user.password_hash.startswith("$argon2id$")
    with app.app_context():
        assert verify_password(user.password_hash, "s3cret-passphrase")
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "user.create")) is not None


def test_creates_a_company_user(app, db, make) -> None:
    make.company(name="Laboratoires Ligériens")
    result = _create(app, "--email", "c@lab.example", "--name", "Chloé", "--role", "company",
                     "--password", "s3cret-passphrase", "--company", "laboratoires ligériens")
    assert result.exit_code == 0, result.output
    assert db.scalar(select(User).where(User.email == "c@lab.example")).company is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # The command speaks the campus language (French), like the pages by default.
        (["--role", "superuser"], "Rôle «\u00a0superuser\u00a0» inconnu"),
        (["--email", "not-an-email"], "n’est pas une adresse e-mail valide"),
        (["--role", "coordinator", "--establishment", "NOPE"], "Aucun établissement"),
        (["--role", "coordinator"], "rattaché à son établissement"),
        (["--role", "company"], "rattaché à son entreprise"),
        (["--role", "company", "--company", "Unknown SA"], "Aucune entreprise"),
        (["--password", "short"], "Le mot de passe doit comporter au moins"),
        (["--name", "   "], "Le nom est vide"),
    ],
)
def test_bad_input_writes_nothing(app, db, args: list[str], message: str) -> None:
    base = {"--email": "new@example.org", "--name": "New", "--role": "trainer",
            "--password": "long-enough-password"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [x for pair in base.items() for x in pair]
    before = (_count(db, User), _count(db, AuditEntry))
    result = _create(app, *flat)
    assert result.exit_code != 0
    assert message in result.output
    assert (_count(db, User), _count(db, AuditEntry)) == before


def test_duplicate_email_is_refused(app, db, make) -> None:
    existing = make.user("trainer")
    db.commit()  # the command rolls its session back on refusal: keep this row out of it
    result = _create(app, "--email", existing.email.upper(), "--name", "Twin",
                     "--role", "trainer", "--password", "long-enough-password")
    assert result.exit_code != 0
    assert "Un compte utilise déjà" in result.output
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_demo_load_twice_gives_the_same_rows(app, db) -> None:
    from models import Base

    def counts() -> dict[str, int]:
        return {t.name: db.scalar(select(func.count()).select_from(t))
                for t in Base.metadata.sorted_tables}

    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "demo campus loaded" in first.output
    after_first = counts()
    assert after_first["booking"] > 0
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "nothing to add" in second.output
    assert counts() == after_first
