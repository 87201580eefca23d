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

# Four processes of four threads: a process per core and a half on a two-core
# host, and threads to overlap the waits on PostgreSQL. WEB_CONCURRENCY
# overrides the number of processes without editing this file.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
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
