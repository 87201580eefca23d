"""Command-line groups of ``flask --app wsgi``."""
