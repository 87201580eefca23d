"""The factory, its configurations and the health check."""

from __future__ import annotations

import pytest

from booking import create_app
from config import DEFAULT_SECRET_KEY, ProductionConfig, database_url


def test_testing_config_is_applied() -> None:
    app = create_app("testing")
    assert app.testing
    assert app.config["ENV_NAME"] == "testing"


def test_unknown_config_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown configuration"):
        create_app("staging")


def test_overrides_apply_on_top_of_the_environment_config() -> None:
    app = create_app({"BOOKING_HORIZON_DAYS": 30, "TESTING": True})
    assert app.config["BOOKING_HORIZON_DAYS"] == 30


def test_production_refuses_the_default_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", DEFAULT_SECRET_KEY)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_starts_with_its_own_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "a-long-random-production-secret")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not app.debug


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:5432/test",
         "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.sqlite", "sqlite:///x.sqlite"),
    ],
)
def test_database_url_uses_psycopg3(given: str, expected: str) -> None:
    assert database_url(given) == expected


def test_healthz_reports_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_unknown_page_is_a_404_in_the_layout(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


def test_every_id_in_a_url_uses_the_bounded_id_converter(app) -> None:
    """Pages and API alike: a rule's integer arguments go through <id:…>
    (booking.converters), never <int:…>, so 2**31 is a 404, not a failing query."""
    from werkzeug.routing.converters import NumberConverter

    from booking.converters import IdConverter

    loose = [(rule.rule, name) for rule in app.url_map.iter_rules()
             for name, converter in rule._converters.items()
             if isinstance(converter, NumberConverter) and not isinstance(converter, IdConverter)]
    assert loose == []
    assert any(isinstance(c, IdConverter) for rule in app.url_map.iter_rules()
               for c in rule._converters.values())
