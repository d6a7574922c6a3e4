"""Queries a test causes on other threads' connections: Django's async ORM, worker threads.

In-process: both capture forms around a worker thread and around ``asyncio.run`` (the
async ORM's thread-sensitive thread, as under pytest-asyncio). Inner runs: the guard and
the marker under pytest-asyncio and in Django's async TestCase methods, serially and
under ``-n 2``.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.db import connections

from tests.conftest import write_ini
from upstream.models import Customer, UserProfile

OWNER_INDEX = "userprofile_customer_role_idx"
RUNS = [pytest.param([], id="serial"), pytest.param(["-n", "2"], id="xdist")]


def in_worker_thread(work) -> None:
    """Run ``work`` on a new thread with a connection of its own, closed afterwards."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    if failures:
        raise failures[0]


@pytest.mark.django_db(transaction=True)
def test_capture_sees_a_worker_threads_query(queryplan):
    with queryplan.capture() as captured:
        in_worker_thread(lambda: Customer.objects.filter(slug="acme").exists())
    assert [q.sql for q in captured if "upstream_customer" in q.sql], captured
    (query,) = captured
    assert "acme" in list(query.params)
    assert query.plan is not None and query.error is None


@pytest.mark.django_db(transaction=True)
def test_block_form_judges_a_worker_threads_query(assert_uses_index):
    with assert_uses_index(OWNER_INDEX):
        in_worker_thread(lambda: UserProfile.objects.filter(customer_id=1, role="owner").count())
    with pytest.raises(AssertionError, match="ran no query"):
        with assert_uses_index(OWNER_INDEX):
            pass  # the worker's wrapper is gone with its block


@pytest.fixture
def thread_sensitive_closed():
    """Afterwards, close the connection of asgiref's thread-sensitive thread: it outlives
    the test, and an open one keeps the test database from being dropped."""
    yield
    from asgiref.sync import sync_to_async

    asyncio.run(sync_to_async(connections.close_all)())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("thread_sensitive_closed")
def test_capture_sees_the_async_orm(queryplan, assert_uses_index):
    """``asyncio.run`` outside any ``async_to_sync``: the ORM runs in asgiref's single
    thread-sensitive thread, whose connection earlier tests may have opened already."""

    async def count() -> int:
        return await UserProfile.objects.filter(customer_id=1, role="owner").acount()

    asyncio.run(count())  # that thread's connection is now open: no connection_created
    with queryplan.capture() as captured:
        assert asyncio.run(count()) == 0
    (query,) = captured
    assert "upstream_userprofile" in query.sql and query.plan is not None
    with assert_uses_index(OWNER_INDEX):
        asyncio.run(count())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("thread_sensitive_closed")
def test_both_capture_forms_inside_a_coroutine(queryplan, assert_uses_index):
    """A plain ``with`` inside async code: Django forbids sync database work on a thread
    that runs an event loop, so the plans are explained where the ORM ran the queries."""

    async def body() -> list:
        with assert_uses_index(OWNER_INDEX):
            await UserProfile.objects.filter(customer_id=1, role="owner").acount()
        with queryplan.capture() as captured:
            await Customer.objects.filter(slug="acme").aexists()
        return captured

    (query,) = asyncio.run(body())
    assert query.plan is not None and query.error is None


ASYNC_TESTS = """
import pytest
from upstream.models import Customer, UserProfile

OWNER = "userprofile_customer_role_idx"


@pytest.mark.django_db(transaction=True)
async def test_async_count_loses_its_index():
    assert await Customer.objects.filter(name="Acme").acount() == 0


@pytest.mark.django_db(transaction=True)
async def test_async_get_by_slug_is_fine():
    assert not await Customer.objects.filter(slug="acme").aexists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.queryplan(uses_index=OWNER)
async def test_marker_sees_async_for():
    assert [p async for p in UserProfile.objects.filter(customer_id=1, role="owner")] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.queryplan(uses_index=OWNER)
async def test_marker_fails_an_async_query_without_the_index():
    await UserProfile.objects.filter(role="owner").acount()


@pytest.mark.django_db(transaction=True)
async def test_fixture_forms_in_async_code(queryplan, assert_uses_index):
    plan = assert_uses_index(UserProfile.objects.filter(customer_id=1, role="owner"), OWNER)
    assert OWNER in plan.index_names
    with queryplan.capture() as captured:
        await Customer.objects.filter(slug="acme").aexists()
    assert captured[0].plan is not None
"""


@pytest.mark.parametrize("xdist", RUNS)
def test_guard_and_marker_under_pytest_asyncio(
    django_pytester: pytest.Pytester, xdist: list[str]
) -> None:
    pytest.importorskip("pytest_asyncio")
    django_pytester.makepyfile(test_async=ASYNC_TESTS)
    write_ini(
        django_pytester,
        extra=["asyncio_mode = auto"],
    )
    result = django_pytester.runpytest_subprocess("--queryplan-guard=fail", *xdist)
    result.assert_outcomes(passed=3, failed=2)
    text = result.stdout.str()
    # The marker's query is the guard's too: role alone searches the index without its
    # leading key, a full read of it (issue 16).
    result.stdout.fnmatch_lines(["guard: fail (mode forced, scope all), 2 findings in 2 tests"])
    assert "  FAIL filtered-full-read upstream_customer: " in text
    assert "1 test: test_async.py::test_async_count_loses_its_index]" in text
    assert (
        "  FAIL filtered-full-read upstream_userprofile: ((role)::text = ?::text)  [1 test:"
        " test_async.py::test_marker_fails_an_async_query_without_the_index]" in text
    )
    assert 'Expected a query in the test body to be served by index "userprofile_customer_r' in text
    assert "could not be explained" not in text


ASYNC_TESTCASE = """
from django.test import TestCase, TransactionTestCase
from pytest_queryplan.testcase import QueryPlanMixin
from upstream.models import Customer, UserProfile

OWNER = "userprofile_customer_role_idx"


class AsyncPlans(QueryPlanMixin, TestCase):
    async def test_guard_finds_an_async_count(self):
        self.assertEqual(await Customer.objects.filter(name="Acme").acount(), 0)

    async def test_objects_the_test_created_are_there(self):
        customer = await Customer.objects.acreate(name="Acme", slug="acme")
        with self.assertUsesIndex(OWNER):
            await UserProfile.objects.filter(customer=customer, role="owner").acount()
        plan = self.assertUsesIndex(UserProfile.objects.filter(customer=customer), OWNER)
        self.assertIn(OWNER, plan.index_names)

    async def test_block_fails_in_async_code(self):
        with self.assertUsesIndex(OWNER):
            await UserProfile.objects.filter(role="owner").acount()


class ThreadPlans(QueryPlanMixin, TransactionTestCase):
    def test_guard_finds_a_worker_threads_query(self):
        import threading
        from django.db import connections

        def work():
            try:
                Customer.objects.filter(name="Acme").exists()
            finally:
                connections.close_all()

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
"""


@pytest.mark.parametrize("xdist", RUNS)
def test_async_testcase_methods_and_threads(django_pytester: pytest.Pytester, xdist) -> None:
    django_pytester.makepyfile(test_async_cases=ASYNC_TESTCASE)
    result = django_pytester.runpytest_subprocess("--queryplan-guard=fail", *xdist)
    result.assert_outcomes(passed=1, failed=3)
    text = result.stdout.str()
    # The guard found the async ORM's query and the worker thread's, nothing else.
    result.stdout.fnmatch_lines(["guard: fail (mode forced, scope all), * in 2 tests"])
    for test in ("AsyncPlans::test_guard_finds_an_async_count", "ThreadPlans::test_guard_finds_a"):
        assert f"test_async_cases.py::{test}" in text
    # The mixin's block, in async code, judged the async query against the index.
    result.stdout.fnmatch_lines(
        [
            "*_ AsyncPlans.test_block_fails_in_async_code _*",
            '*Expected a query in the block to be served by index "userprofile_customer_role*',
        ]
    )
    assert "could not be explained" not in text


UNEXPLAINABLE = """
import threading

import pytest
from django.db import connection, connections


@pytest.mark.django_db(transaction=True)
def test_a_worker_queries_its_own_temporary_table():
    def work():
        try:
            with connection.cursor() as cursor:
                cursor.execute("CREATE TEMPORARY TABLE worker_stuff (id int)")
                cursor.execute("SELECT id FROM worker_stuff WHERE id = %s", [1])
        finally:
            connections.close_all()  # the table goes with the worker's session

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
"""


def test_what_cannot_be_explained_is_counted(django_pytester: pytest.Pytester) -> None:
    """The worker's query is captured, but its table lived in the worker's session only:
    the summary says so instead of passing it over."""
    django_pytester.makepyfile(test_unexplainable=UNEXPLAINABLE)
    result = django_pytester.runpytest_subprocess("--queryplan-guard=warn")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["plans: 1 EXPLAIN run for 1 query seen (1 could not be explained; -v lists them)"]
    )
    # -v lists it: the SQL shape, the line that ran it, the server's reason.
    verbose = django_pytester.runpytest_subprocess("--queryplan-guard=warn", "-v")
    verbose.stdout.fnmatch_lines(
        [
            "  could not explain: SELECT id FROM worker_stuff WHERE id = ? at "
            'test_unexplainable.py:* in *work: relation "worker_stuff" does not exist  *'
        ]
    )
