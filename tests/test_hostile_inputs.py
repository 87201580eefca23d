"""Every hostile value of tests/hostile.py through every input field: each API
field the OpenAPI document lists (request bodies, query and path parameters)
and each field of each form the pages show (found by reading their HTML as
the people who may use them), one value in one field per request.

Every answer is below 500. A refusal (4xx, or a page answered 200 with a form
error) writes nothing. Where the request is rightly accepted (script in a
title is a title), nothing hostile is stored (no NUL, surrogate or control
character, no line break in a one-line column, no 64 KB string, no date out of
the supported years), and script shows escaped on every page afterwards.

Each field gets the values of its kind (tests/hostile.py: a date field the far
dates, a number or an id the huge number, free text the line break and the
control character), every class on SQLite; on PostgreSQL the classes that meet
its own limits only (NUL, surrogates, 64 KB, far dates, huge numbers: see
``SAME_ON_EVERY_DATABASE``).

Each request runs in a savepoint undone afterwards, except those carrying
script, kept so that the pages can be read back with all of them at once.
"""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.services.feeds.operations import digest, sealed_token
from booking.services.satisfaction.surveys import PURPOSE as SURVEY_PURPOSE
from models import Respondent, SatisfactionSurvey
from tests.conftest import NOW, PASSWORD
from tests.hostile import (
    SCRIPT,
    TEXT_VALUES,
    PageForm,
    encode,
    forms_of,
    hostile_rows,
    ics_with,
    json_value,
    json_values_for,
    quote_path,
    stored_script,
    values_on,
)
from tests.test_route_matrix import REFUSED, api_bodies, expected, query_strings, routes
from tests.world import ROLES, World, WriteWatch, bearer, build_world, fingerprint, logged_in
from tests.world import undone as savepoint

# Who sends each API operation: the first of these the matrix allows.
SENDERS = ("trainer", "coordinator", "company", "admin", "anon")
# An id in a path goes through one converter: one value per way it can fail.
PATH_VALUES = ("nul", "surrogate", "64k", "huge_int")
FORM_ERROR_MARKS = ('class="field-errors"', 'class="error-summary"', "flash-error",
                    'role="alert"')


@pytest.fixture
def world(app, make, db, now) -> World:
    return build_world(app, make, db)


def provider_down(answer: Any) -> bool:
    return answer.status_code == 502 and 'data-reason="provider-down"' in \
        answer.get_data(as_text=True)


class Campaign:
    """Sends the requests of one test, judges each answer, and keeps the tally
    for the assertion and the report."""

    def __init__(self, label: str, db: Any, caplog: pytest.LogCaptureFixture) -> None:
        self.label, self.db, self.caplog = label, db, caplog
        self.tried = 0
        self.status: Counter[int] = Counter()
        self.failures: list[str] = []
        self.fields: set[str] = set()
        self.accepted_script = 0
        self.down = 0  # « provider down » pages of the world's silent directory
        self.started = time.monotonic()
        self.watch = WriteWatch(db)
        self.before = fingerprint(db)

    def __enter__(self) -> Campaign:
        self.watch.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.watch.__exit__(*exc)

    def fail(self, where: str, value: str, answer: Any, why: str) -> None:
        self.failures.append(f"{where} = {value}: {answer.status_code} {why}")

    def send(self, where: str, value: str, request: Callable[[], Any], *,
             page: bool | Callable[[Any], bool], keep: bool = True) -> None:
        """One hostile request, undone afterwards; except, when ``keep``, an
        accepted script value that was stored: kept, and read back on every page
        at the end (:func:`_script_escaped_everywhere`). ``page``: whether a 200
        HTML answer is the form shown again (a refusal), or a function telling
        so of the answer."""
        self.tried += 1
        with savepoint(self.db) as kept:
            self.watch.reset()
            answer = request()
            written = self._judge(where, value, answer, page=page)
            if value == "script" and SCRIPT in answer.get_data(as_text=True) and \
                    answer.mimetype == "text/html":
                self.fail(where, value, answer, "script shown raw in the answer")
            if keep and written and value == "script" and stored_script(self.db, written):
                kept.commit()  # read back on every page at the end
                self.accepted_script += 1
                self.before = fingerprint(self.db)

    def _judge(self, where: str, value: str, answer: Any, *,
               page: bool | Callable[[Any], bool]) -> list[str]:
        """The tables written by the request when it was accepted."""
        if callable(page):
            page = page(answer)
        self.status[answer.status_code] += 1
        if provider_down(answer):
            self.down += 1
            # The world's LDAP directory never answers (the discard port): a
            # valid sign-in gets the documented « provider down » page (502),
            # the one 5xx that tells of someone else's server, not of the input.
            return []
        if answer.status_code >= 500:
            self.fail(where, value, answer, "server error" + _last_error(self.caplog))
            return []
        written = self.watch.changed(self.db, self.before)
        html = answer.status_code == 200 and answer.mimetype == "text/html"
        refused = answer.status_code >= 400 or (page and html)
        if refused and written:
            self.fail(where, value, answer, f"refused but wrote {written}")
        if page and html and not any(mark in answer.get_data(as_text=True)
                                     for mark in FORM_ERROR_MARKS):
            self.fail(where, value, answer, "page without a form error")
        if not refused and written:
            stored = hostile_rows(self.db, written)
            if stored:
                self.fail(where, value, answer, f"accepted and stored: {stored[:3]}")
        return written if not refused else []

    def summary(self) -> str:
        fives = sum(n for code, n in self.status.items() if code >= 500) - self.down
        return (f"{self.label}: {self.tried} requests ({len(self.fields)} fields × values), "
                f"{fives} answered 5xx ({self.down} provider down), "
                f"{len(self.failures)} failures, script accepted in "
                f"{self.accepted_script} fields, {time.monotonic() - self.started:.1f} s; "
                f"statuses {dict(sorted(self.status.items()))}")


def _last_error(caplog: pytest.LogCaptureFixture) -> str:
    """The exception of a 5xx, from the application's log."""
    for record in reversed(caplog.records):
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            caplog.clear()
            return f" [{type(exc).__name__}: {str(exc).splitlines()[0][:160]}]"
    caplog.clear()
    return ""


# --- the API ---------------------------------------------------------------------------------


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            branches = [_resolve(doc, s) for s in schema[combined]]
            with_fields = [s for s in branches if s.get("properties")]
            return with_fields[0] if with_fields else branches[0]
    return schema


def _body_fields(doc: dict[str, Any], schema: dict[str, Any],
                 path: tuple = ()) -> list[tuple[tuple, dict[str, Any]]]:
    """Every field a body may carry, nested ones included, with its schema."""
    found = []
    for name, given in _resolve(doc, schema).get("properties", {}).items():
        sub = _resolve(doc, given)
        # readOnly beside an anyOf (a nullable nested object) is lost by resolving it.
        if given.get("readOnly") or sub.get("readOnly"):
            continue
        here = (*path, name)
        found.append((here, sub))
        if sub.get("properties"):
            found += _body_fields(doc, sub, here)
        items = _resolve(doc, sub.get("items", {})) if sub.get("type") == "array" else {}
        if items.get("properties"):
            found += _body_fields(doc, items, (*here, 0))
    return found


def _containers(ids: dict[str, Any]) -> dict[str, Any]:
    """A valid value for a nested container absent from the base body."""
    return {"recurrence": {"rrule": "FREQ=DAILY;COUNT=2"},
            "opening_hours": [{"weekday": 0, "opens": "08:00", "closes": "18:00"}],
            # A quote's lines (PUT /quotes/{id}): one free line.
            "lines": [{"label": "Forfait", "unit": "forfait", "quantity_cents": 100,
                       "unit_price_cents": 10000, "vat_rate_bp": 2000}]}


def _with(body: dict[str, Any], path: tuple, value: Any, ids: dict[str, Any]) -> dict:
    body = json.loads(json.dumps(body))
    target: Any = body
    for step in path[:-1]:
        if isinstance(step, int):
            target = target[step]
        else:
            if step not in target or not isinstance(target[step], dict | list):
                target[step] = json.loads(json.dumps(_containers(ids)[step]))
            target = target[step]
    target[path[-1]] = value
    return body


def _fresh(body: dict[str, Any]) -> dict[str, Any]:
    """The base body with new unique values, so that a second create is no 409."""
    suffix = uuid.uuid4().hex[:6]
    body = dict(body)
    for name in ("code", "name", "title"):
        if isinstance(body.get(name), str):
            body[name] = f"{body[name]}-{suffix}"
    if "role" in body:  # a new account
        body["email"] = f"n{suffix}@example.org"
    return body


def _sender(endpoint_key: str) -> str:
    cells = expected(endpoint_key)
    for role in SENDERS:
        if cells[role] not in REFUSED:
            return role
    return "admin"


def test_hostile_values_through_every_api_field(app, db, world, monkeypatch, caplog) -> None:
    w = world
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    client = app.test_client()
    headers = {role: {} if role == "anon" else bearer(app, db, w[role]) for role in ROLES}
    doc = client.get("/api/v1/openapi.json").json
    bodies = api_bodies(w)
    sent = values_on(db.bind.dialect.name)
    with Campaign(f"API, {db.bind.dialect.name}", db, caplog) as campaign:
        for path, operations in doc["paths"].items():
            for method, operation in operations.items():
                if method == "parameters":
                    continue
                endpoint = _rule_of(app, path, method.upper()).endpoint
                key = f"{method.upper()} {endpoint}"
                role = _sender(key)
                params = [*operations.get("parameters", []), *operation.get("parameters", [])]
                # JSON bodies; a multipart file (the onboarding imports) is read by
                # tests/test_onboarding_files.py's hostile files.
                content = {media: body for media, body in operation.get(
                    "requestBody", {}).get("content", {}).items() if media == "application/json"}
                call = ApiCall(client, path, method.upper(), headers[role], w,
                               {p["name"]: str(w.ids[p["name"]]) for p in params
                                if p["in"] == "path"},
                               bodies.get(endpoint, {}) if content else None)
                fields = [(f"{p['in']}:{p['name']}", _resolve(doc, p.get("schema", {})))
                          for p in params]
                if content:
                    fields += [("body:" + ".".join(map(str, fpath)), fschema) for fpath, fschema
                               in _body_fields(doc, content["application/json"]["schema"])]
                for where, fschema in fields:
                    campaign.fields.add(f"{key} {where}")
                    for name in sorted(_api_values(where, fschema, sent),
                                       key=lambda n: n == "script"):
                        campaign.send(f"{key} {where} as {role}", name,
                                      functools.partial(call, where, fschema, name), page=False)
        if "script" in sent:
            _script_escaped_everywhere(app, w, campaign)
    print(campaign.summary())
    assert len(campaign.fields) > 200
    assert campaign.tried > 500
    assert campaign.failures == [], f"{campaign.summary()}\n" + "\n".join(campaign.failures)


def _api_values(where: str, schema: dict[str, Any], sent: tuple[str, ...]) -> list[str]:
    if where.startswith("path:"):
        values = list(PATH_VALUES)
    else:
        values = json_values_for(schema)
        if where.startswith("query:"):
            values.remove("wrong_type")  # text on the wire: no types
    return [name for name in values if name in sent]


def _rule_of(app: Flask, openapi_path: str, method: str) -> Any:
    for rule in app.url_map.iter_rules():
        converted = rule.rule
        for arg in rule.arguments:
            converted = converted.replace(f"<id:{arg}>", "{" + arg + "}")
        if converted == openapi_path and method in rule.methods:
            return rule
    raise AssertionError(f"no route for {method} {openapi_path}")


@dataclass
class ApiCall:
    """One operation, sent with one hostile value in one of its fields."""

    client: FlaskClient
    path: str
    method: str
    headers: dict[str, str]
    w: World
    url_values: dict[str, str]
    base: dict[str, Any] | None

    def __call__(self, where: str, schema: dict[str, Any], name: str) -> Any:
        location, _, field = where.partition(":")
        values = dict(self.url_values)
        query = ""
        body = _fresh(self.base) if self.base is not None else None
        raw = TEXT_VALUES.get(name, "")
        if location == "path":
            values[field] = quote_path(raw)
        elif location == "query":
            query = "?" + encode([(field, raw)])
        else:
            steps = tuple(int(s) if s.isdigit() else s for s in field.split("."))
            body = _with(body or {}, steps, json_value(name, schema), self.w.ids)
        url = self.path
        for arg, value in values.items():
            url = url.replace("{" + arg + "}", value)
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            # json.dumps escapes a lone surrogate (\\ud800): valid JSON that decodes to one.
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return self.client.open(url + query, method=self.method, **kwargs)


# --- the pages -------------------------------------------------------------------------------


def _form_pages(app: Flask, w: World, *, everyone: bool = False) -> list[tuple[str, str]]:
    """(role, url) of every page, for the first person the matrix lets see it
    (in the order admin, coordinators, trainers, companies, anonymous), or for
    ``everyone`` who may."""
    found = routes(app)
    pages = []
    for key, rule in sorted(found.items()):
        method, endpoint = key.split(" ", 1)
        if method != "GET" or rule.rule.startswith("/api/") or endpoint in NOT_HTML:
            continue
        values = {a: (w.feed_token if a == "token" else w.ids[a]) for a in rule.arguments}
        url = app.url_map.bind("localhost").build(endpoint, values)
        url += query_strings(w).get(endpoint, "")
        allowed = [role for role, want in expected(key).items() if want == "200"]
        pages += [(role, url) for role in allowed if everyone or role == allowed[0]]
    return pages


NOT_HTML = {"ical.feed", "bookings.ics", "exports.export_csv", "exports.export_ics",
            "exports.export_xlsx", "reports.csv", "reports.xlsx", "main.healthz",
            "onboarding.template", "reports.usage_csv", "kiosk.label",
            # Continuing education's documents: PDFs, CSV and spreadsheets.
            "quotes.pdf", "agreements.pdf", "agreements.signed",
            "attendance.certificate_pdf", "attendance.project_sheets_pdf",
            "attendance.session_sheets_pdf", "satisfaction.export_csv",
            "invoicing.project_csv", "invoicing.project_xlsx", "invoicing.period_csv",
            "invoicing.period_xlsx", "evaluation.export_csv", "evaluation.export_xlsx"}


def _discover(app: Flask, clients: dict[str, FlaskClient],
              w: World) -> list[tuple[str, PageForm]]:
    seen: dict[tuple, tuple[str, PageForm]] = {}
    tried: set[tuple[str, str]] = set()  # (path, GET parameter)
    for role, url in _form_pages(app, w):
        html = clients[role].get(url).get_data(as_text=True)
        for form in [*forms_of(url, html), *_hand_edited(url)]:
            if form.method == "GET":
                form.only = {n for n in form.kinds if (form.path, n) not in tried}
            if form.fuzzable() and form.key() not in seen:
                seen[form.key()] = (role, form)
                tried.update((form.path, n) for n in form.fuzzable())
                for name, value in _typed_by(w, form.path, role).items():
                    form.pairs = form.with_value(name, value)
    return _one_per_form_class(list(seen.values()))


def _one_per_form_class(forms: list[tuple[str, PageForm]]) -> list[tuple[str, PageForm]]:
    """Without the edit forms whose fields (five or more) are all those of the
    new form of the same things, which has more: one form class on two pages,
    as :meth:`PageForm.key` has it for the same fields."""
    fields = [(form.method, _collection(form.path), set(form.fuzzable())) for _, form in forms]
    return [(role, form) for (role, form), (method, things, mine) in zip(forms, fields,
                                                                         strict=True)
            if len(mine) < 5 or not any((method, things) == (other_method, other_things)
                                        and mine < other
                                        for other_method, other_things, other in fields)]


def _collection(path: str) -> str:
    """/admin/equipment of /admin/equipment/new and /admin/equipment/3/edit."""
    return re.sub(r"/(new|\d+/edit)$", "", path)


def _hand_edited(url: str) -> list[PageForm]:
    """Query strings no page links to but a view reads: the filters of the
    exports (as the bookings list), asked of the bookings page."""
    if url != "/bookings/mine":
        return []
    forms = []
    for path in ("/bookings/export.csv", "/bookings/export.ics"):
        form = PageForm(url, "GET", path, pairs=list(EXPORT_FILTERS.items()))
        form.kinds = {name: "link" for name in EXPORT_FILTERS}
        forms.append(form)
    return forms


EXPORT_FILTERS = {"equipment_id": "1", "establishment_id": "1", "trainer_id": "1",
                  "project_id": "1", "status": "confirmed", "from": "2027-01-01",
                  "to": "2027-02-01"}


def _typed_by(w: World, path: str, role: str) -> dict[str, str]:
    """What the person would type that no default can guess: their password."""
    if path == "/auth/login":
        return {"email": w["trainer"].email, "password": PASSWORD}
    if path == "/auth/password":
        return {"current_password": PASSWORD}
    if path == "/admin/accounts/new":
        return {"company": "0"}
    return {}


def _multipart(pairs: list[tuple[str, str]], files: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = "hostile" + uuid.uuid4().hex
    parts = []
    for name, value in pairs:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     .encode() + value.encode("utf-8", "surrogatepass") + b"\r\n")
    for name, content in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="closures.ics"\r\nContent-Type: text/calendar\r\n\r\n'
                     .encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _send_form(client: FlaskClient, form: PageForm, name: str, value: str) -> Any:
    answer = _submit(client, form, name, value)
    if answer.status_code == 302:
        # The flash of a redirect not followed would show on the next page.
        with client.session_transaction() as session:
            session.pop("_flashes", None)
    return answer


def _submit(client: FlaskClient, form: PageForm, name: str, value: str) -> Any:
    files = {n: ics_with("Vacances") for n, kind in form.kinds.items() if kind == "file"}
    pairs = form.pairs
    if name in files:
        files[name] = ics_with(value)
    else:
        pairs = form.with_value(name, value)
    target = urlsplit(form.action)
    path = target.path + (f"?{target.query}" if target.query else "")
    if form.method == "GET":
        joiner = "&" if target.query else "?"
        return client.get(target.path + "?" + encode(pairs) if not target.query
                          else path + joiner + encode(pairs))
    if files:
        body, content_type = _multipart(pairs, files)
        return client.post(path, data=body, content_type=content_type)
    return client.post(path, data=encode(pairs).encode("ascii"),
                       content_type="application/x-www-form-urlencoded")


def test_hostile_values_through_every_web_form_field(app, db, world, monkeypatch,
                                                     caplog) -> None:
    w = world
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    clients = {role: logged_in(app, None if role == "anon" else w[role]) for role in ROLES}
    forms = _discover(app, clients, w)
    sent = values_on(db.bind.dialect.name)
    with Campaign(f"pages, {db.bind.dialect.name}", db, caplog) as campaign:
        # Last, the forms that may end the session the others need.
        for role, form in sorted(forms, key=lambda f: bool(ACCOUNT.match(f[1].path))):
            for name in form.fuzzable():
                where = f"{form.method} {urlsplit(form.action).path} [{name}] as {role}"
                campaign.fields.add(where)
                for value_name in sorted(form.values_for(name), key=lambda n: n == "script"):
                    if value_name not in sent:
                        continue
                    campaign.send(where, value_name, functools.partial(
                        _send_form, clients[role], form, name, TEXT_VALUES[value_name]),
                        page=form.method == "POST", keep=not ACCOUNT.match(form.path))
        if "script" in sent:
            _script_escaped_everywhere(app, w, campaign)
    print(campaign.summary(), f"; {len(forms)} forms")
    assert len(forms) > 30
    assert campaign.failures == [], f"{campaign.summary()}\n" + "\n".join(campaign.failures)


def test_hostile_values_through_the_satisfaction_questionnaire(app, db, world, monkeypatch,
                                                               caplog) -> None:
    """The questionnaire's public page (no account: its link is the key), not
    in the world (whose survey link is unknown), each of its fields. An answer
    is thanked for (200 without the form) and stores nothing hostile; a refusal
    shows the form again with its error and writes nothing. A comment with
    script, answered last, shows escaped on every page afterwards."""
    w = world
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    token = sealed_token(SURVEY_PURPOSE, w.ids["project_id"], uuid.uuid4().hex,
                         app.config["SECRET_KEY"])
    db.add(SatisfactionSurvey(project_id=w.ids["project_id"], respondent=Respondent.CONTACT,
                              email="contact@example.org", token_digest=digest(token),
                              sent_at=NOW, expires_at=NOW + timedelta(days=30)))
    db.flush()
    client = logged_in(app, None)
    url = f"/survey/{token}"
    forms = [f for f in forms_of(url, client.get(url).get_data(as_text=True)) if f.path == url]
    assert len(forms) == 1
    form = forms[0]
    sent = values_on(db.bind.dialect.name)
    # The comment last: its script answer is kept, and the link is used up.
    names = sorted(form.fuzzable(), key=lambda n: n == "comment")
    assert names[-1] == "comment"
    assert len(names) >= 8

    def shown_again(answer: Any) -> bool:
        return 'id="thanks-title"' not in answer.get_data(as_text=True)

    with Campaign(f"questionnaire, {db.bind.dialect.name}", db, caplog) as campaign:
        for name in names:
            campaign.fields.add(name)
            for value_name in sorted(form.values_for(name), key=lambda n: n == "script"):
                if value_name not in sent:
                    continue
                campaign.send(f"POST /survey/<token> [{name}]", value_name, functools.partial(
                    _send_form, client, form, name, TEXT_VALUES[value_name]),
                    page=shown_again, keep=name == "comment")
        if "script" in sent:
            assert campaign.accepted_script == 1
            _script_escaped_everywhere(app, w, campaign)
    print(campaign.summary())
    assert campaign.failures == [], f"{campaign.summary()}\n" + "\n".join(campaign.failures)


# Forms on accounts: what they accept is never kept (a deactivated trainer, a
# changed password would lock the readers out), and they come last (a changed
# password may end the session of the browser that sent it).
ACCOUNT = re.compile(r"^/(auth/password|admin/accounts/\d+/)")


def _script_escaped_everywhere(app: Flask, w: World, campaign: Campaign) -> None:
    """Every page, read by an admin, a trainer and a company contact after the
    script values were stored: none shows the script raw."""
    readers = ("admin", "trainer", "company")
    clients = {role: logged_in(app, w[role]) for role in readers}
    for role, url in _form_pages(app, w, everyone=True):
        if role not in readers:
            continue
        answer = clients[role].get(url)
        if answer.status_code >= 500:
            campaign.fail(f"GET {url} as {role}", "after script", answer,
                          "server error" + _last_error(campaign.caplog))
        elif SCRIPT in answer.get_data(as_text=True):
            campaign.fail(f"GET {url} as {role}", "after script", answer, "script shown raw")
