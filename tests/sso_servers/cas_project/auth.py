"""The accounts of the tests' CAS server: a JSON file, ``{username: {"password":
..., "attributes": {name: value or [values]}}}``, read at each use so a test
can change a person's attributes between two sign-ins."""

import json

from cas_server.auth import AuthUser
from django.conf import settings


def _accounts():
    try:
        return json.loads(settings.CAS_USERS_FILE.read_text())
    except FileNotFoundError:
        return {}


class FileAuthUser(AuthUser):
    def __init__(self, username):
        super().__init__(username)
        self.account = _accounts().get(username)

    def test_password(self, password):
        return self.account is not None and password == self.account["password"]

    def attributs(self):
        return dict(self.account["attributes"]) if self.account else {}
