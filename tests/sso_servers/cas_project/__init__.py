"""A minimal Django project serving django-cas-server, the tests' CAS 3.0
server (started by :mod:`tests.sso_servers.cas`; never imported by pytest)."""
