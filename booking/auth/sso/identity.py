"""What a protocol hands back, and how it says no."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """A person the provider vouched for.

    ``subject`` is the provider's stable identifier (OIDC ``sub``, the CAS user,
    the SAML persistent NameID or configured attribute, the LDAP ``entryUUID``);
    ``attributes`` every claim or attribute, each a list of strings (several
    ``eduPersonAffiliation`` values, several groups)."""

    subject: str
    attributes: dict[str, list[str]] = field(default_factory=dict)
    # Put back into the Flask session once the login has started (it clears
    # the session): what ``logout`` needs later, e.g. the OIDC ID token for
    # id_token_hint or the SAML NameID and session index.
    keep: dict[str, str] = field(default_factory=dict)
    # Where to go next when the protocol carried it itself (SAML's RelayState:
    # the IdP's cross-site POST brings no session cookie); checked by the view.
    next_page: str | None = None


class SignInFailed(Exception):
    """The provider's answer gave no identity. ``message`` is already
    translated (raised within the request); ``status`` is the page's."""

    status = 403

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class ProviderDown(SignInFailed):
    """The provider did not answer (refused, timed out, a 5xx of its own)."""

    status = 502
