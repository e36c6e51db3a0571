"""The one-line log format of every process (Django's LOGGING, gunicorn's own logs), so
one parser reads every line of the stack.

No Django imports: gunicorn.conf.py reads this before any app is loaded.
"""

LINE_FORMATTER = {
    "format": "%(asctime)s level=%(levelname)s logger=%(name)s pid=%(process)d %(message)s",
    "datefmt": "%Y-%m-%dT%H:%M:%S%z",
}
