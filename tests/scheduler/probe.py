"""A job for the process-level tests: runs promptly, takes a moment, needs no network.

Enabled with SCHEDULER_EXTRA_JOBS=tests.scheduler.probe.sleep_briefly; PROBE_SECONDS
sets how long it runs. It logs start and end so the tests can wait for those lines,
and touches the database so a killed connection would make it fail.
"""

import logging
import os
import time

from django_apscheduler.models import DjangoJob
from django_apscheduler.util import close_old_connections

logger = logging.getLogger(__name__)


@close_old_connections
def sleep_briefly() -> None:
    jobs = DjangoJob.objects.count()
    logger.info("probe job started pid=%d jobs=%d", os.getpid(), jobs)
    time.sleep(float(os.environ.get("PROBE_SECONDS", "0")))
    logger.info("probe job finished pid=%d", os.getpid())
