"""gunicorn settings of production and of the load test (bench/load.py).

gunicorn reads this file by itself when started from the repository root
(``gunicorn wsgi:app``), or with ``-c gunicorn.conf.py``; a command-line option
overrides the value here. Why each value: docs/deployment.md ("gunicorn").
"""

import os

wsgi_app = "wsgi:app"
# Loopback: the reverse proxy on the same host is the only client. A second app
# server behind a proxy on another host binds its private address (--bind).
bind = "127.0.0.1:8000"

# Two processes of four threads on a two-core host: a process per core, and
# threads to overlap the waits on PostgreSQL. The app's requests are CPU-bound
# in Python (20-35 ms of CPU per request of the load test's mix, 5 ms in
# PostgreSQL), so more processes only compete for the same two cores: in
# `make loadtest` at 50 clients, 2 x 4 served more requests per second at a
# lower p99 than 4 x 4, 3 x 4, 4 x 2, 2 x 8 or 6 x 1 (the last the worst: a
# long page blocks its process), with half the memory (docs/performance.md).
# More cores: about one process per core. WEB_CONCURRENCY overrides the number
# of processes without editing this file.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4

# Import the app once in the master and fork the workers: a quarter of the CPU
# at start-up, and a worker recycled by max_requests is up at once. create_app
# opens no connection, so every worker still has its own pool. A new release
# needs a restart (systemctl restart), not a HUP.
preload_app = True

# A worker whose main loop is silent for 30 s is killed and replaced. With
# threads, this catches a wedged process, not one slow request: the work of a
# request is bounded by the application, and the proxy gives up after 60 s.
timeout = 30
# On restart or stop, requests in flight get 20 s to finish.
graceful_timeout = 20
# Idle keep-alive connections of direct clients are closed after 5 s.
keepalive = 5

# Each worker is replaced after 2,000 to 2,200 requests (the jitter staggers
# the restarts): memory that grows slowly (caches, fragmentation after argon2's
# 64 MB per hash) is given back without anyone noticing.
max_requests = 2000
max_requests_jitter = 200

# Access lines to stdout (the journal under systemd); booking.log_redaction
# hides feed tokens in them. Errors to stderr.
accesslog = "-"
errorlog = "-"

# No control socket: two servers on one host would share
# ~/.gunicorn/gunicorn.ctl, and systemd does the controlling.
control_socket_disable = True


def when_ready(server):  # gunicorn calls it with the arbiter
    """Compile every template once in the master, before the workers fork.

    Jinja compiles a template on its first use in each process: with
    preload_app every worker, and every worker that max_requests recycles,
    would compile the page templates again under load (5 % of the server's
    CPU in the first 30 s of the load test's 50-client phase, py-spy). Compiled
    here, the workers inherit them from the fork.
    """
    import sys

    module = sys.modules.get("wsgi")  # loaded by preload_app; absent without it
    if module is None:
        return
    env = module.app.jinja_env
    for name in env.list_templates(extensions=("html", "txt", "ics", "xml")):
        env.get_template(name)
