"""The background scheduler: its own process, one live copy at a time.

Start it with ``flask --app wsgi scheduler run``; never from a web worker.
"""
