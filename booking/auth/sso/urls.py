"""The absolute addresses a provider is told about (redirect URI, ACS, entity id).

They must not change with the host a page happened to be asked on when the
deployment names its address (BASE_URL): a provider compares them exactly."""

from __future__ import annotations

from flask import url_for

from booking.public_url import public_url
from models import IdentityProvider


def login_url(provider: IdentityProvider) -> str:
    return url_for("sso.login", code=provider.code)


def callback_url(provider: IdentityProvider) -> str:
    return public_url() + url_for("sso.callback", code=provider.code)


def metadata_url(provider: IdentityProvider) -> str:
    return public_url() + url_for("sso.metadata", code=provider.code)
