"""Plateforme: the CosmetoPharma campus equipment-booking application."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from config import CONFIGS, DEFAULT_SECRET_KEY, Config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | type[Config] | dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` is a name of ``config.CONFIGS``, a config class,
    or a dict of overrides applied to the ``FLASK_CONFIG`` (default development)
    settings. No migration and no network call happens here."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    # request.get_json: hostile JSON (too deep, huge integers) is a 400, not a 500.
    from booking.json_bodies import BoundedJSONProvider

    app.json = BoundedJSONProvider(app)
    overrides: dict[str, Any] = {}
    if isinstance(config, dict):
        overrides = config
        config = None
    if config is None:
        config = os.environ.get("FLASK_CONFIG", "development")
    if isinstance(config, str):
        if config not in CONFIGS:
            raise ValueError(f"unknown configuration {config!r}: one of {sorted(CONFIGS)}")
        config = CONFIGS[config]
    # <id:…> for every id in a URL, pages and API (booking.converters): a number
    # beyond the database's integers is no route (404), never a failing query.
    from booking.converters import register_converters

    register_converters(app)
    app.config.from_object(config)
    app.config.update(overrides)
    _check_production(app)
    Path(app.instance_path).mkdir(exist_ok=True)

    from booking import log_redaction

    log_redaction.install()
    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    # After every blueprint (the API's come with register_hooks): it wraps their views.
    from booking.ratelimit import init_rate_limits

    init_rate_limits(app)
    from booking.handlers import register_template_helpers

    register_template_helpers(app)
    register_commands(app)
    return app


def _check_production(app: Flask) -> None:
    if app.config.get("ENV_NAME") == "production" and app.config["SECRET_KEY"] in (
        None,
        "",
        DEFAULT_SECRET_KEY,
    ):
        raise RuntimeError("production refuses to start without its own SECRET_KEY")


def register_extensions(app: Flask) -> None:
    from booking.database import configure_engine, init_write_transactions
    from booking.extensions import babel, csrf, db, login_manager, migrate
    from booking.i18n import select_locale, select_timezone

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    # First of the request hooks: a writer's transaction must begin before any query.
    init_write_transactions(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)


def register_blueprints(app: Flask) -> None:
    from booking.account.views import bp as account_bp
    from booking.admin import bp as admin_bp
    from booking.agreements.views import bp as agreements_bp
    from booking.attendance.views import bp as attendance_bp
    from booking.auth.invitations import bp as invitations_bp
    from booking.auth.links import bp as links_bp
    from booking.auth.sso.views import bp as sso_bp
    from booking.auth.views import bp as auth_bp
    from booking.bookings.views import bp as bookings_bp
    from booking.calendars.views import bp as calendars_bp
    from booking.certifications.views import bp as certifications_bp
    from booking.checkin.views import bp as checkin_bp
    from booking.coordination.inbox import bp as inbox_bp
    from booking.coordination.views import bp as coordination_bp
    from booking.documents.views import bp as documents_bp
    from booking.equipment.views import bp as equipment_bp
    from booking.errors import register_error_handlers
    from booking.evaluation.views import bp as evaluation_bp
    from booking.exports.views import bp as exports_bp
    from booking.history.views import bp as history_bp
    from booking.ical.views import bp as ical_bp
    from booking.imports.views import bp as imports_bp
    from booking.invoicing.views import bp as invoicing_bp
    from booking.jobs.views import bp as jobs_bp
    from booking.kiosk import bp as kiosk_bp
    from booking.main.views import bp as main_bp
    from booking.onboarding.views import bp as onboarding_bp
    from booking.planning.views import bp as planning_bp
    from booking.pricing.views import bp as pricing_bp
    from booking.projects.views import bp as projects_bp
    from booking.quotas.views import bp as quotas_bp
    from booking.quotes.views import bp as quotes_bp
    from booking.reports.views import bp as reports_bp
    from booking.satisfaction.views import bp as satisfaction_bp
    from booking.sites.views import bp as sites_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(links_bp)
    app.register_blueprint(sso_bp)
    app.register_blueprint(invitations_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(equipment_bp)
    app.register_blueprint(documents_bp)
    # Before bookings: /bookings/export.ics is not /bookings/<id>.ics.
    app.register_blueprint(exports_bp)
    app.register_blueprint(bookings_bp)
    app.register_blueprint(ical_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(coordination_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(onboarding_bp)
    app.register_blueprint(certifications_bp)
    app.register_blueprint(calendars_bp)
    app.register_blueprint(sites_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(projects_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(planning_bp)
    app.register_blueprint(quotas_bp)
    app.register_blueprint(history_bp)
    app.register_blueprint(checkin_bp)
    app.register_blueprint(pricing_bp)
    app.register_blueprint(quotes_bp)
    app.register_blueprint(agreements_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(satisfaction_bp)
    app.register_blueprint(invoicing_bp)
    app.register_blueprint(evaluation_bp)
    app.register_blueprint(kiosk_bp)
    register_error_handlers(app)


def register_hooks(app: Flask) -> None:
    from booking.api import init_api
    from booking.auth.sessions import init_login
    from booking.i18n import init_templates

    # After the write hook of register_extensions: the token look-up opens the
    # transaction, and a writing request must open it as a writer first.
    init_api(app)
    init_login(app)
    init_templates(app)
    from booking.calendar_panel import panel_of

    # The calendars' detail panel of a booking (templates/equipment/_booking.html).
    app.jinja_env.globals["booking_panel"] = panel_of
    # CSP, framing, nosniff, referrer, HSTS and cache rules on every answer.
    from booking.security_headers import init_security_headers

    init_security_headers(app)


def register_commands(app: Flask) -> None:
    from booking.cli.backup import backup_cli
    from booking.cli.demo import demo_cli
    from booking.cli.onboarding import onboarding_cli
    from booking.cli.providers import providers_cli
    from booking.cli.scheduler import scheduler_cli
    from booking.cli.users import users_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(onboarding_cli)
    app.cli.add_command(providers_cli)
