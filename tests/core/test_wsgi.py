"""core.wsgi: what a web process has loaded and frozen before its first request."""

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import gc, json, sys
import core.wsgi
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "tracked": len(gc.get_objects()),
    "views": "calendar_api.views" in sys.modules,
}))
"""


def test_the_app_and_its_urlconf_are_loaded_then_kept_out_of_the_collector():
    env = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR / "src")}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # core.wsgi sets it, as under gunicorn
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["views"], "the URLconf waits for the first request"
    # Django, the apps and the URLconf's modules are frozen: far more than is left
    # for the collector to walk.
    assert found["frozen"] > 10 * found["tracked"], found
