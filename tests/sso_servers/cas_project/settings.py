"""Settings of the tests' CAS server. Everything the server writes (its SQLite
database, the accounts it knows) lives in CAS_TEST_DIR, a temporary folder of
the test session."""

import os
from pathlib import Path

WORKDIR = Path(os.environ["CAS_TEST_DIR"])

SECRET_KEY = "plateforme-tests-cas-server"  # loopback only, test data
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "cas_project.urls"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "cas_server",
    "cas_project",  # its management command: the service pattern
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": str(WORKDIR / "cas.sqlite3")}}

# The app under test runs on 127.0.0.1 too, and cookies do not tell ports
# apart: names of our own, so neither side overwrites the other's session.
SESSION_COOKIE_NAME = "cas_test_session"
CSRF_COOKIE_NAME = "cas_test_csrf"

# The accounts: a JSON file the tests rewrite (tests.sso_servers.cas.CasServer.set_user),
# read again at each login and each ticket, so changed attributes show at the next sign-in.
CAS_AUTH_CLASS = "cas_project.auth.FileAuthUser"
CAS_USERS_FILE = WORKDIR / "users.json"

# Loopback only: no page of the server may reach the network (CDN, PyPI).
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SHOW_SERVICE_MESSAGES = False
CAS_INFO_MESSAGES = {}
CAS_INFO_MESSAGES_ORDER = []
CAS_COMPONENT_URLS = {name: "data:," for name in (
    "bootstrap3_css", "bootstrap3_js", "html5shiv", "respond", "bootstrap4_css",
    "bootstrap4_js", "jquery")}
CAS_LOGO_URL = None
CAS_FAVICON_URL = None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"cas_server": {"handlers": ["console"], "level": "INFO"}},
}
