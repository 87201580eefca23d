"""Request bodies read with bounded work (issue 10, smaller findings): JSON nested
100,000 deep, an integer of 5,000 digits, NaN or a number beyond the floats are
invalid JSON (400) for the API's parser and for ``request.get_json``, never a 500;
a body over MAX_CONTENT_LENGTH is a 413, the uniform error body on the API and a
page on the site; the .ics import's own limit lies below it, so a file just over
that limit is still told so by the import form."""

from __future__ import annotations

import io

import pytest
from flask import request
from werkzeug.exceptions import BadRequest
from werkzeug.test import encode_multipart

from booking.services.closures.imports import MAX_BYTES
from models import Role
from tests.api_helpers import Caller, assert_error
from tests.conftest import csrf_token_of

HOSTILE_JSON = {
    "nested 100,000 deep": "[" * 100_000 + "]" * 100_000,
    "objects nested 50,000 deep": '{"a": ' * 50_000 + "1" + "}" * 50_000,
    "5,000 digits": '{"email": ' + "1" * 5_000 + ', "password": "x"}',
    "NaN": '{"email": NaN, "password": "x"}',
    "beyond the floats": '{"email": 1e999, "password": "x"}',
}


@pytest.mark.parametrize("body", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
@pytest.mark.parametrize("path", ["/api/v1/auth/tokens", "/api/v1/bookings"])
def test_hostile_json_is_a_400(client, make, path, body) -> None:
    caller = Caller(client, make.user(Role.TRAINER))
    answer = caller.post(path, data=body, content_type="application/json")
    assert_error(answer, 400, "bad_request")


@pytest.mark.parametrize("body", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_get_json_reads_hostile_json_as_invalid(app, body) -> None:
    with app.test_request_context("/", method="POST", data=body,
                                  content_type="application/json"):
        assert request.get_json(silent=True) is None
        with pytest.raises(BadRequest):
            request.get_json()


def test_json_within_the_limits_still_reads(app) -> None:
    body = '{"n": 12345678901234567890, "x": 1.5e10, "nested": [[[[{"a": null}]]]]}'
    with app.test_request_context("/", method="POST", data=body,
                                  content_type="application/json"):
        assert request.get_json() == {"n": 12345678901234567890, "x": 1.5e10,
                                      "nested": [[[[{"a": None}]]]]}


def test_a_body_over_the_limit_is_a_413_on_the_api(app, client, make) -> None:
    caller = Caller(client, make.user(Role.TRAINER))
    body = b'{"title": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'
    answer = caller.post("/api/v1/bookings", data=body, content_type="application/json")
    assert_error(answer, 413, "too_large")


def _upload(client, size: int):
    """Encoded here, in memory: the test client would spool a body this large to a
    temporary file that it never closes."""
    token = csrf_token_of(client.get("/coordination/import").get_data(as_text=True))
    boundary, body = encode_multipart({"csrf_token": token, "target": "establishment-1",
                                       "file": (io.BytesIO(b"x" * size), "zone-b.ics")})
    return client.post("/coordination/import", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_an_upload_over_the_limit_is_a_413_page(app, client, login, make) -> None:
    login(make.user(Role.COORDINATOR))
    # A raw body: nothing of it is read once the length is known to be too large.
    answer = client.post("/coordination/import", data=b"x" * (app.config[
        "MAX_CONTENT_LENGTH"] + 1), content_type="multipart/form-data; boundary=x")
    assert answer.status_code == 413
    assert 'class="error-page' in answer.get_data(as_text=True)


def test_a_file_just_over_the_import_limit_is_told_so_by_the_form(client, login, make) -> None:
    login(make.user(Role.COORDINATOR))
    answer = _upload(client, MAX_BYTES + 1)
    assert answer.status_code == 200
    assert 'class="field-error"' in answer.get_data(as_text=True)
