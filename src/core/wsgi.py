"""The WSGI application: ``gunicorn core.wsgi`` (gunicorn.conf.py loads it once in the
master, before forking the workers)."""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
application = get_wsgi_application()

# The URLconf (views, serializers, filters, the schema's classes) now, not on the
# first request: a broken import stops the server at start, not a request later.
import_module(settings.ROOT_URLCONF)

# Everything loaded so far lives as long as the process. Out of the cyclic garbage
# collector's sight, a full collection (about one per thousand requests) no longer
# walks every module, class and function of Django: a few ms at most instead of 60-70,
# a stall that every request queued behind it waits out (bench/profile_api.py,
# docs/benchmarks.md). Under preload the workers inherit it, and collections in them
# leave those pages unwritten, shared.
gc.freeze()
