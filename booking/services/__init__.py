"""Domain services: typed functions taking an explicit actor and ``now``.

They flush but never commit, never read the request or the logged-in user:
pages, the API, CLI commands and scheduler jobs all call the same functions.
"""
