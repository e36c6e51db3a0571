"""Settings for the scheduler processes the tests start: production settings plus one
test-only hook.

``SCHEDULER_EXTRA_JOBS`` (dotted paths) adds jobs that run at start and then every
``SCHEDULER_EXTRA_JOBS_INTERVAL_SECONDS``: a probe that runs promptly and never touches
the network. Production settings do not define it; a process gets it with
``DJANGO_SETTINGS_MODULE=tests.settings``.
"""

from core.settings import *  # noqa: F403
from core.settings import env_int, env_list

SCHEDULER_EXTRA_JOBS = env_list("SCHEDULER_EXTRA_JOBS", default=[])
SCHEDULER_EXTRA_JOBS_INTERVAL_SECONDS = env_int(
    "SCHEDULER_EXTRA_JOBS_INTERVAL_SECONDS", 60
)
