"""The top bar's landmarks: a skip link first, one banner holding the account menu,
the language switch and the main menu (each navigation named), then main."""

from __future__ import annotations

import re
from typing import Any

import pytest

from models import Role


@pytest.mark.parametrize(("locale", "account", "menu"), [
    ("fr", "Votre compte", "Menu principal"), ("en", "Your account", "Main menu")])
def test_top_bar_landmarks(client: Any, login: Any, make: Any, locale: str, account: str,
                           menu: str) -> None:
    login(make.user(Role.TRAINER, locale=locale))
    html = client.get("/dashboard").get_data(as_text=True)
    body = html[html.index("<body"):]
    assert re.search(r'<body>\s*<a class="skip-link" href="#main">', body)
    header = body[body.index("<header"):body.index("</header>")]
    assert body.count("<header") == 1
    assert f'<nav class="wide-only" aria-label="{account}">' in header
    assert header.count(f'aria-label="{menu}"') == 2  # the row and the phone's folded copy
    assert 'class="lang-switch"' in header
    assert re.search(r'</header>\s*<main id="main"', body)
