"""Settings per environment, read from the environment variables of API.md."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent
INSTANCE = ROOT / "instance"
DEFAULT_SECRET_KEY = "dev-only-insecure-key"  # noqa: S105 - refused in production


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(value: str) -> str:
    """Accept the usual ``postgresql://`` form and use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix):]
    return value


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'plateforme.sqlite'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, object]] = {"pool_pre_ping": True}
    # The public address written into feed links and e-mails (booking.public_url).
    # Unset (`make run`), pages link to the host and port they were asked on, and
    # the scheduler to the port `make run` serves (PORT, 5000 by default).
    PUBLIC_URL = os.environ.get("BASE_URL", "").rstrip("/") or None
    BASE_URL = PUBLIC_URL or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    EXPORT_DIR = os.environ.get("EXPORT_DIR", str(INSTANCE / "export"))
    # Equipment documents and photos (booking.services.equipment.documents); the
    # upload route alone reads bodies of that size (MAX_CONTENT_LENGTH elsewhere).
    DOCUMENTS_DIR = os.environ.get("DOCUMENTS_DIR", str(INSTANCE / "documents"))
    DOCUMENT_MAX_BYTES = int(os.environ.get("DOCUMENT_MAX_BYTES", str(8 * 1024 * 1024)))
    # Files of a bulk import kept between their preview and « Importer »
    # (booking.onboarding.uploads); shared by the web servers, like DOCUMENTS_DIR.
    ONBOARDING_DIR = os.environ.get("ONBOARDING_DIR", str(INSTANCE / "onboarding"))
    # Built calendar feed bodies (booking.services.feeds.cache), shared by the
    # worker processes so that a change is built once; empty turns the cache off.
    FEED_CACHE_DIR = os.environ.get("FEED_CACHE_DIR", str(INSTANCE / "feed-cache"))
    # A feed's freshness check (an aggregate over its window) is reused for this
    # many seconds by every poll of its scope; 0 checks at every poll. Clients
    # are told max-age=300, so a few seconds' delay is within the promise.
    FEED_FRESH_SECONDS = int(os.environ.get("FEED_FRESH_SECONDS", "10"))

    # Time: stored in UTC, shown in the campus zone.
    DISPLAY_TIMEZONE = "Europe/Paris"
    BOOKING_HORIZON_DAYS = int(os.environ.get("BOOKING_HORIZON_DAYS", "400"))
    # Hours an offer from a waiting list stays open before it passes to the next in line.
    WAITLIST_CLAIM_HOURS = float(os.environ.get("WAITLIST_CLAIM_HOURS", "2"))
    # No-shows within NO_SHOW_FLAG_DAYS that flag a user to the coordinators.
    NO_SHOW_FLAG_COUNT = int(os.environ.get("NO_SHOW_FLAG_COUNT", "3"))
    # Days back in which a user's no-shows are counted for that flag.
    NO_SHOW_FLAG_DAYS = int(os.environ.get("NO_SHOW_FLAG_DAYS", "90"))
    # Seconds between two reloads of a kiosk screen (it has no script).
    KIOSK_REFRESH_SECONDS = int(os.environ.get("KIOSK_REFRESH_SECONDS", "60"))
    # Days after a project's completion its learners' names and e-mails are kept
    # (attendance proofs for the funders' audits), then erased; counts stay.
    LEARNER_RETENTION_DAYS = int(os.environ.get("LEARNER_RETENTION_DAYS", "1095"))
    # Days a satisfaction questionnaire's link stays valid.
    SURVEY_VALID_DAYS = int(os.environ.get("SURVEY_VALID_DAYS", "30"))
    # The largest request body read, beyond it a 413 before anything is parsed:
    # the .ics import's file (at most 2 MB, services/closures/imports.py) with the
    # form around it. Any JSON body or page form is far smaller.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024 + 256 * 1024

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "translations")
    LANGUAGES = ("fr", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Strict-Transport-Security max-age (booking.security_headers); 0 sends none.
    # Set it only once the site is served over HTTPS: browsers then refuse HTTP.
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "0"))
    # Reverse proxies in front of gunicorn that append the client's address to
    # X-Forwarded-For (nginx: 1); wsgi.py then takes that address as the
    # client's. 0 believes no such header: a client could write one.
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", "0"))

    API_TOKEN_HOURS = int(os.environ.get("API_TOKEN_HOURS", "24"))

    # Identity providers (docs/authentication.md): clocks may differ by this many
    # seconds between us and a provider (ID tokens, SAML assertions); a
    # provider that has not answered in SSO_TIMEOUT seconds is taken as down.
    SSO_CLOCK_SKEW = int(os.environ.get("SSO_CLOCK_SKEW", "120"))
    SSO_TIMEOUT = float(os.environ.get("SSO_TIMEOUT", "10"))
    # The SAML service provider's key and certificate (PEM). Unset: a pair is
    # made once under the instance folder (instance/saml/).
    SAML_SP_KEY_FILE = os.environ.get("SAML_SP_KEY_FILE") or None
    SAML_SP_CERT_FILE = os.environ.get("SAML_SP_CERT_FILE") or None

    # Throttling (booking.ratelimit). memory:// counts in each process (each
    # gunicorn worker on its own); redis://127.0.0.1:6379 shares the counts between
    # workers and servers. An unreachable Redis falls back to memory, never a 500.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "plateforme")
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Password guesses (login page, API token, password change), every attempt
    # counted, per account and per client address; then the costly requests
    # (argon2 hashes, .ics imports, reports and exports), per user and address.
    RATELIMIT_LOGIN_PER_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_PER_ACCOUNT",
                                                 "10 per 15 minutes")
    RATELIMIT_LOGIN_PER_ADDRESS = os.environ.get("RATELIMIT_LOGIN_PER_ADDRESS",
                                                 "100 per 15 minutes")
    RATELIMIT_COSTLY_PER_ACCOUNT = os.environ.get("RATELIMIT_COSTLY_PER_ACCOUNT",
                                                  "30 per 10 minutes")
    RATELIMIT_COSTLY_PER_ADDRESS = os.environ.get("RATELIMIT_COSTLY_PER_ADDRESS",
                                                  "300 per 10 minutes")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_FROM = os.environ.get("MAIL_FROM", "plateforme@cosmetopharma.local")

    SCHEDULER_EXPORT_MINUTES = int(os.environ.get("SCHEDULER_EXPORT_MINUTES", "5"))
    # A scheduler renews its lease every POLL seconds; a standby takes over
    # LEASE seconds after the holder stopped renewing (it died).
    SCHEDULER_POLL_SECONDS = float(os.environ.get("SCHEDULER_POLL_SECONDS", "20"))
    SCHEDULER_LEASE_SECONDS = float(os.environ.get("SCHEDULER_LEASE_SECONDS", "60"))

    # argon2id cost; raising it rehashes each password at its next login.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"  # noqa: S105
    # Whatever the environment says: tests compare links with this address.
    PUBLIC_URL = BASE_URL = "http://127.0.0.1:5000"
    # No feed cache: rolled-back tests reuse ids under a frozen clock, so two
    # tests' feeds could share a fingerprint; tests of the cache set their own.
    FEED_CACHE_DIR = ""
    FEED_FRESH_SECONDS = 0
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_SQLITE_URL", "sqlite://")
    # The suite logs in hundreds of times from one address; tests of the
    # throttle set their own small limits.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_LOGIN_PER_ACCOUNT = RATELIMIT_LOGIN_PER_ADDRESS = "10000 per minute"
    RATELIMIT_COSTLY_PER_ACCOUNT = RATELIMIT_COSTLY_PER_ADDRESS = "10000 per minute"
    # Cheap hashes: tests create many accounts; the cost is still argon2id.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
