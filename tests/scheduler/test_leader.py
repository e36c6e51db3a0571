import os

import psycopg
import pytest

from scheduler.leader import (
    FileLock,
    PostgresAdvisoryLock,
    leader_lock,
    postgres_conn_params,
)


def test_file_lock_admits_one_leader_at_a_time(tmp_path):
    path = tmp_path / "db.sqlite3.scheduler.lock"
    first, second = FileLock(path), FileLock(path)

    assert first.try_acquire()
    assert first.is_held()
    assert (
        not second.try_acquire()
    )  # flock conflicts across open files, even in-process

    first.release()
    assert second.try_acquire()
    assert f":{os.getpid()}" in path.read_text()
    second.release()


def test_file_lock_is_lost_when_the_file_is_replaced(tmp_path):
    path = tmp_path / "scheduler.lock"
    lock = FileLock(path)
    assert lock.try_acquire()

    path.unlink()  # someone cleaned var/: a new process could now lock a new file

    assert not lock.is_held()
    lock.release()


@pytest.mark.django_db
def test_sqlite_uses_a_file_lock_beside_the_database(settings, tmp_path):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    settings.SCHEDULER_LOCK_PATH = str(tmp_path / "x.lock")

    lock = leader_lock()

    assert isinstance(lock, FileLock)
    assert lock.path == tmp_path / "x.lock"


@pytest.mark.postgres
@pytest.mark.django_db
def test_advisory_lock_admits_one_leader_and_frees_when_its_session_dies():
    first = PostgresAdvisoryLock(postgres_conn_params())
    second = PostgresAdvisoryLock(postgres_conn_params())
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.is_held()

        # A database restart (or a DBA) kills the leader's lock session.
        assert first.conn is not None
        with psycopg.connect(**postgres_conn_params(), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(%s)", [first.conn.info.backend_pid]
            )

        assert not first.is_held()  # the leader notices and stops running jobs
        assert second.try_acquire()  # and a standby takes over
        assert not first.try_acquire()  # the old leader is now a standby
    finally:
        first.release()
        second.release()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lock_connection_is_separate_from_djangos():
    from django.db import connection

    lock = PostgresAdvisoryLock(postgres_conn_params())
    try:
        assert lock.try_acquire()
        connection.close()  # what close_old_connections may do between jobs

        assert lock.is_held()
        assert lock.conn is not None
        assert lock.conn.info.parameter_status("application_name").endswith(
            ":scheduler-lock"
        )
    finally:
        lock.release()
