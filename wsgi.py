"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi``."""

from werkzeug.middleware.proxy_fix import ProxyFix

from booking import create_app

app = create_app()
if app.config["PROXY_HOPS"]:
    # Behind nginx every peer is the proxy: the client is the address the
    # proxy appended, so that throttling counts per client (docs/deployment.md).
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"])  # type: ignore[method-assign]
