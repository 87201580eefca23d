"""A real SAML 2.0 identity provider for the tests, built with pysaml2's ``Server``.

Run as ``python -m tests.sso_servers.saml_idp <folder> <port>`` (the fixture in
:mod:`tests.sso_servers.saml` does). It serves on 127.0.0.1 with wsgiref, one
request at a time, and signs with Debian's xmlsec1, as a university's IdP would.
Everything it knows is read from ``<folder>`` at each request, so a test changes
it by writing files, never through a back door of the server:

- ``idp.key``, ``idp.crt``: its key pair (made by the fixture);
- ``users.json``: ``{"<login>": {"name_id": "...", "attributes": {"mail": [...]}}}``;
- ``sp/*.xml``: the metadata of the service providers it trusts;
- ``logouts.jsonl``: written by it, one line per LogoutRequest received.

Endpoints: ``/idp/metadata`` (its metadata; its entity id), ``/sso/redirect``
(an AuthnRequest, HTTP-Redirect: the login form, or straight back when its
session cookie names a user), ``/sso/login`` (the form posted: the Response
through HTTP-POST), ``/slo/redirect`` (a signed LogoutRequest: the session
ends, a LogoutResponse goes to the SP's SingleLogoutService).

The login form carries two fields a test may change by posting the form
itself: ``sign`` (``assertion``, ``response``, ``both`` or ``none``) and
``shift`` (seconds added to the IdP's clock while it writes the Response).
"""

from __future__ import annotations

import html
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

import saml2.time_util
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server

XMLSEC1 = "/usr/bin/xmlsec1"
COOKIE = "saml_idp_user"  # not Flask's "session": cookies ignore ports, and both run on 127.0.0.1

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

# --- the clock, movable while a Response is written (the clock-skew tests) ---
_SHIFT = [0.0]
_real_gmtime = time.gmtime
_real_time = time.time


def _shifted_gmtime(secs: float | None = None) -> time.struct_time:
    return _real_gmtime(_real_time() + _SHIFT[0] if secs is None else secs)


class _ShiftedDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
        return datetime.fromtimestamp(_real_time() + _SHIFT[0], tz)


@contextmanager
def shifted_clock(seconds: float) -> Iterator[None]:
    """pysaml2 reads the time through ``time.gmtime()`` and ``datetime.now()`` in
    saml2.time_util: both move by ``seconds`` inside the block (this process
    serves one request at a time)."""
    _SHIFT[0] = seconds
    try:
        yield
    finally:
        _SHIFT[0] = 0.0


time.gmtime = _shifted_gmtime  # type: ignore[assignment]
saml2.time_util.datetime = _ShiftedDatetime  # type: ignore[attr-defined,misc]


class IdP:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.base = f"http://127.0.0.1:{port}"
        self.entity_id = f"{self.base}/idp/metadata"

    def config(self, *, requests_signed: bool = False) -> IdPConfig:
        sp_files = sorted(str(path) for path in (self.folder / "sp").glob("*.xml"))
        conf = IdPConfig()
        conf.load({
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC1,
            "key_file": str(self.folder / "idp.key"),
            "cert_file": str(self.folder / "idp.crt"),
            "metadata": {"local": sp_files} if sp_files else {},
            "accepted_time_diff": 60,
            "service": {"idp": {
                "name": "IdP de test",
                "endpoints": {
                    "single_sign_on_service": [(f"{self.base}/sso/redirect",
                                                BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(f"{self.base}/slo/redirect",
                                               BINDING_HTTP_REDIRECT)],
                },
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "want_authn_requests_signed": requests_signed,
                "policy": {"default": {"lifetime": {"minutes": 5},
                                       "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_URI}},
            }},
        })
        return conf

    def users(self) -> dict[str, Any]:
        path = self.folder / "users.json"
        return json.loads(path.read_text()) if path.exists() else {}

    # --- WSGI ---
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        params = _params(environ)
        routes = {"/idp/metadata": self.metadata, "/sso/redirect": self.sso,
                  "/sso/login": self.login, "/slo/redirect": self.slo}
        handler = routes.get(path)
        if handler is None:
            return _answer(start_response, "404 Not Found", "not here")
        try:
            return handler(environ, params, start_response)
        except Exception as error:  # a test IdP: say what went wrong, keep serving
            return _answer(start_response, "400 Bad Request",
                           f"{type(error).__name__}: {html.escape(str(error))}")

    def metadata(self, environ: dict[str, Any], params: dict[str, str],
                 start_response: StartResponse) -> Iterable[bytes]:
        xml = str(entity_descriptor(self.config()))
        start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
        return [xml.encode()]

    def sso(self, environ: dict[str, Any], params: dict[str, str],
            start_response: StartResponse) -> Iterable[bytes]:
        server = Server(config=self.config())
        server.parse_authn_request(params["SAMLRequest"], BINDING_HTTP_REDIRECT)  # checks it
        remembered = _cookies(environ).get(COOKIE)
        if remembered and remembered in self.users():
            return self._respond(server, params["SAMLRequest"], params.get("RelayState", ""),
                                 remembered, "assertion", 0.0, start_response)
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (("SAMLRequest", params["SAMLRequest"]),
                                ("RelayState", params.get("RelayState", "")),
                                ("sign", "assertion"), ("shift", "0")))
        page = (f'<form method="post" action="{self.base}/sso/login">{fields}'
                '<label for="username">Identifiant</label>'
                '<input id="username" name="username" autocomplete="off">'
                '<button type="submit" id="idp-login">Connexion</button></form>')
        return _answer(start_response, "200 OK", page)

    def login(self, environ: dict[str, Any], params: dict[str, str],
              start_response: StartResponse) -> Iterable[bytes]:
        server = Server(config=self.config())
        username = params.get("username", "")
        if username not in self.users():
            return _answer(start_response, "200 OK", "Identifiant inconnu.")
        return self._respond(server, params["SAMLRequest"], params.get("RelayState", ""),
                             username, params.get("sign", "assertion"),
                             float(params.get("shift", "0")), start_response)

    def _respond(self, server: Server, saml_request: str, relay_state: str, username: str,
                 sign: str, shift: float, start_response: StartResponse) -> Iterable[bytes]:
        request = server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)
        user = self.users()[username]
        with shifted_clock(shift):
            args = server.response_args(request.message, [BINDING_HTTP_POST])
            name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text=user["name_id"],
                             name_qualifier=self.entity_id, sp_name_qualifier=args["sp_entity_id"])
            response = server.create_authn_response(
                user["attributes"], userid=username, name_id=name_id,
                authn={"class_ref": PASSWORDPROTECTEDTRANSPORT, "authn_auth": self.base},
                sign_assertion=sign in {"assertion", "both"},
                sign_response=sign in {"response", "both"}, **args)
        http = server.apply_binding(BINDING_HTTP_POST, str(response), args["destination"],
                                    relay_state, response=True)
        cookie = f"{COOKIE}={username}; Path=/; HttpOnly; SameSite=Lax"
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Set-Cookie", cookie)])
        return [http["data"].encode()]

    def slo(self, environ: dict[str, Any], params: dict[str, str],
            start_response: StartResponse) -> Iterable[bytes]:
        # A logout must be signed by the SP: anyone could otherwise end a session.
        server = Server(config=self.config(requests_signed=True))
        request = server.parse_logout_request(
            params["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=params.get("RelayState"),
            sigalg=params.get("SigAlg"), signature=params.get("Signature"))
        message = request.message
        with (self.folder / "logouts.jsonl").open("a") as log:
            log.write(json.dumps({
                "issuer": message.issuer.text, "name_id": message.name_id.text,
                "session_index": [index.text for index in message.session_index],
                "signed": bool(params.get("Signature"))}) + "\n")
        clear = f"{COOKIE}=; Path=/; Max-Age=0"
        targets = server.metadata.single_logout_service(message.issuer.text,
                                                        BINDING_HTTP_REDIRECT, "spsso")
        if not targets:
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                      ("Set-Cookie", clear)])
            return [b"<p>Vous \xc3\xaates d\xc3\xa9connect\xc3\xa9.</p>"]
        destination = targets[0]["location"]
        response = server.create_logout_response(message, [BINDING_HTTP_REDIRECT],
                                                 status=None, sign=False)
        http = server.apply_binding(BINDING_HTTP_REDIRECT, str(response), destination,
                                    params.get("RelayState", ""), response=True, sign=True)
        location = dict(http["headers"])["Location"]
        start_response("303 See Other", [("Location", location), ("Set-Cookie", clear)])
        return [b""]


def _params(environ: dict[str, Any]) -> dict[str, str]:
    raw = environ.get("QUERY_STRING", "")
    if environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length).decode()
    return {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}


def _cookies(environ: dict[str, Any]) -> dict[str, str]:
    jar = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    return {key: morsel.value for key, morsel in jar.items()}


def _answer(start_response: StartResponse, status: str, body: str) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/html; charset=utf-8")])
    page = f'<!DOCTYPE html><html lang="fr"><meta charset="utf-8"><body>{body}</body></html>'
    return [page.encode()]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def main() -> None:
    folder, port = Path(sys.argv[1]), int(sys.argv[2])
    with make_server("127.0.0.1", port, IdP(folder, port), handler_class=_QuietHandler) as httpd:
        print(f"SAML IdP on http://127.0.0.1:{port}", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    main()
