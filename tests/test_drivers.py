"""The PostgreSQL adapter on whichever driver Django uses: psycopg 3 or psycopg2.

The same file runs in both CI environments (the test extra with psycopg 3, and a venv with
psycopg2-binary instead), so every assertion here is driver-neutral: the safety the
adapter promises (savepoint, settings restored, values bound by the driver, a failed
EXPLAIN leaves the transaction usable), and the round trips each driver costs, counted
on the wire by a loopback proxy in front of the real server.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Iterator

import pytest
from django.db import connection, connections, transaction

from pytest_queryplan import QueryPlanUsageError
from pytest_queryplan.core.checks.modes import Mode
from pytest_queryplan.dialects.postgresql.backend import PostgreSQLBackend
from upstream.models import Customer

OWNER_INDEX = "userprofile_customer_role_idx"
OWNERS = (
    "SELECT count(*) FROM upstream_userprofile WHERE customer_id = %s AND role = %s",
    [1, "owner"],
)


def is_psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


def scalar(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def transaction_status() -> int:
    """libpq's status, as both drivers report it: 0 idle, 2 in a transaction, 3 aborted."""
    return int(connection.connection.info.transaction_status)


IDLE, INTRANS = 0, 2


@pytest.fixture
def customers(db):
    Customer.objects.bulk_create(Customer(name=f"c{i}", slug=f"c{i}") for i in range(5))


def test_the_runner_is_the_drivers_own(db):
    connection.ensure_connection()
    runner = PostgreSQLBackend(connection).runner()
    expected = "Psycopg3Runner" if is_psycopg3() else "Psycopg2Runner"
    assert type(runner).__name__ == expected
    assert type(connection.connection).__module__.split(".")[0] == (
        "psycopg" if is_psycopg3() else "psycopg2"
    )


@pytest.mark.parametrize("mode", ["forced", "natural"])
def test_settings_restored_inside_the_tests_transaction(queryplan, customers, mode):
    before = scalar("SHOW enable_seqscan")
    plan = queryplan.explain(Customer.objects.filter(slug="c1"), mode=mode)
    assert plan.tables == {"upstream_customer"}
    assert scalar("SHOW enable_seqscan") == before == "on"
    assert transaction_status() == INTRANS


def test_write_explained_with_analyze_is_rolled_back(queryplan, customers):
    before = sorted(Customer.objects.values_list("slug", "name"))
    plan = queryplan.explain(
        ("UPDATE upstream_customer SET name = %s WHERE slug = %s", ["renamed", "c1"]),
        analyze=True,
    )
    assert plan.execution_time is not None  # it really ran
    assert sorted(Customer.objects.values_list("slug", "name")) == before


def test_analyze_rolls_back_rows_but_sequences_advance(queryplan, customers):
    """What the README promises for analyze=True, exactly: the INSERT's row is gone, yet
    the id sequence moved on (nextval() is outside transaction control)."""
    last = Customer.objects.order_by("-id").values_list("id", flat=True).first()
    queryplan.explain(
        ("INSERT INTO upstream_customer (name, slug) VALUES (%s, %s)", ["new", "new"]),
        analyze=True,
    )
    assert not Customer.objects.filter(slug="new").exists()
    assert Customer.objects.create(name="next", slug="next").id == last + 2


def test_a_syntax_error_leaves_the_transaction_usable(queryplan, assert_uses_index, customers):
    """On psycopg2 the whole string is parsed before any of it runs: the savepoint must
    already exist when the user's SQL reaches the server."""
    Customer.objects.create(name="kept", slug="kept")
    with pytest.raises(QueryPlanUsageError, match="could not EXPLAIN"):
        assert_uses_index("SELEC broken", OWNER_INDEX)
    with pytest.raises(QueryPlanUsageError, match='relation "no_such_table" does not exist'):
        queryplan.explain("SELECT * FROM no_such_table")
    assert transaction_status() == INTRANS
    assert Customer.objects.filter(slug="kept").exists()
    assert Customer.objects.count() == 6


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sql", ["SELEC broken", "SELECT * FROM no_such_table"])
def test_autocommit_left_idle_after_a_failure(queryplan, sql):
    with pytest.raises(QueryPlanUsageError):
        queryplan.explain(sql)
    assert transaction_status() == IDLE
    assert connection.get_autocommit()
    assert scalar("SELECT 1") == 1


@pytest.mark.django_db(transaction=True)
def test_autocommit_left_idle_and_unchanged(queryplan, assert_uses_index):
    Customer.objects.create(name="a", slug="a")
    queryplan.explain(("DELETE FROM upstream_customer WHERE slug = %s", ["a"]), analyze=True)
    assert_uses_index(OWNERS, OWNER_INDEX)
    assert transaction_status() == IDLE
    assert scalar("SHOW enable_seqscan") == "on"
    assert Customer.objects.filter(slug="a").exists()


def test_values_are_bound_by_the_driver(queryplan, customers):
    hostile = "x'; DROP TABLE upstream_customer; --"
    plan = queryplan.explain(Customer.objects.filter(slug=hostile), analyze=True)
    assert plan.tables == {"upstream_customer"} and plan.execution_time is not None
    assert Customer.objects.count() == 5
    named = ("SELECT * FROM upstream_customer WHERE slug = %(slug)s", {"slug": hostile})
    assert queryplan.explain(named).tables == {"upstream_customer"}
    # A literal % without parameters is no placeholder; with parameters it is written %%.
    queryplan.explain("SELECT * FROM upstream_customer WHERE slug LIKE 'c%'")
    queryplan.explain(("SELECT * FROM upstream_customer WHERE slug LIKE 'c%%' AND id > %s", [0]))


def test_an_aborted_transaction_is_a_clear_usage_error(queryplan, customers):
    with transaction.atomic():
        with pytest.raises(Exception):  # noqa: B017 - any database error aborts the block
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")
        with pytest.raises(QueryPlanUsageError, match="already aborted"):
            queryplan.explain(Customer.objects.all())
        transaction.set_rollback(True)


def test_catalog_reads_leave_the_transaction_as_it_was(db):
    backend = PostgreSQLBackend(connection)
    infos = backend.index_info([OWNER_INDEX, "no_such_index"])
    assert [info.name for info in infos] == [OWNER_INDEX]
    assert infos[0].columns == ("customer_id", "role")
    assert backend.column_types("upstream_customer")["slug"] == "character varying(100)"
    assert backend.attached_indexes(OWNER_INDEX) == {OWNER_INDEX}
    assert transaction_status() == INTRANS
    assert scalar("SELECT 1") == 1


def test_fixture_without_database_access_is_one_clear_line(queryplan):
    """No django_db mark: pytest-django's own error would come from deep in the driver."""
    with pytest.raises(QueryPlanUsageError) as error:
        queryplan.explain("SELECT 1")
    assert str(error.value) == (
        "queryplan.explain needs the database, and this test may not use it: mark the test "
        "with @pytest.mark.django_db (or request the db fixture)."
    )


class RoundTripCounter:
    """A loopback proxy in front of the test server that counts round trips: client
    writes separated by an answer of the server (one write split in TCP segments is one)."""

    def __init__(self, settings: dict) -> None:
        host, port = settings["HOST"], settings["PORT"] or "5432"
        if host.startswith("/"):  # the embedded server: a Unix socket only
            self.upstream: tuple = (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}")
        else:
            self.upstream = (socket.AF_INET, (host or "127.0.0.1", int(port)))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.trips = 0
        self.client_turn = False
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.relay, daemon=True)
        self.thread.start()

    def relay(self) -> None:
        client, _ = self.listener.accept()
        family, address = self.upstream
        server = socket.socket(family, socket.SOCK_STREAM)
        server.connect(address)
        peer = {client: server, server: client}
        with selectors.DefaultSelector() as selector, client, server:
            selector.register(client, selectors.EVENT_READ)
            selector.register(server, selectors.EVENT_READ)
            while not self.stopped.is_set():
                for key, _ in selector.select(timeout=0.1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    if key.fileobj is client and not self.client_turn:
                        self.trips += 1
                    self.client_turn = key.fileobj is client
                    peer[key.fileobj].sendall(data)

    def count(self, work) -> int:
        self.trips = 0
        self.client_turn = False
        work()
        return self.trips

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def counted(db) -> Iterator[tuple[RoundTripCounter, PostgreSQLBackend, object]]:
    """A second Django connection to the test database, through the counting proxy."""
    default = connections["default"]
    proxy = RoundTripCounter(default.settings_dict)
    settings = {**default.settings_dict, "HOST": "127.0.0.1", "PORT": str(proxy.port)}
    wrapper = type(default)(settings, alias=default.alias)
    try:
        wrapper.ensure_connection()
        yield proxy, PostgreSQLBackend(wrapper), wrapper
    finally:
        with contextlib.suppress(Exception):
            wrapper.close()
        proxy.close()


@pytest.fixture(autouse=True)
def nothing_parsed_yet():
    """Each test starts with no statement known to parse (see ``parsed.py``)."""
    from pytest_queryplan.dialects.postgresql.drivers import parsed

    parsed.PIPELINE.forget()
    parsed.SIMPLE.forget()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["natural", "forced"])
def test_a_second_statement_in_the_sql_never_runs_for_good(queryplan, mode):
    """One message may carry several statements: a string of the user's holding a second
    one (here a DELETE after the SELECT) must never run it where nothing rolls it back,
    in autocommit, the first time or once the same statement was explained before."""
    Customer.objects.create(name="kept", slug="kept")
    sql = "SELECT id FROM upstream_customer WHERE slug = %s; DELETE FROM upstream_customer"
    for slug in ("kept", "other"):
        with contextlib.suppress(QueryPlanUsageError):  # psycopg 3 refuses two statements
            queryplan.explain((sql, [slug]), mode=mode)
        assert transaction_status() == IDLE
        assert Customer.objects.filter(slug="kept").exists()


def test_values_that_change_the_syntax_go_the_safe_way(queryplan, customers):
    """A statement explained once is sent in one message with its savepoint next time,
    keyed by its values' kinds: psycopg2 writes an empty tuple as ``()``, a syntax error,
    which must find the savepoint already made (the test's transaction stays usable)."""
    if is_psycopg3():
        pytest.skip("psycopg 3 binds no tuple: a list is an array literal, never ()")
    sql = "SELECT id FROM upstream_customer WHERE id IN %s"
    queryplan.explain((sql, [(1, 2)]))
    queryplan.explain((sql, [(3, 4)]))  # known now: one message
    with pytest.raises(QueryPlanUsageError, match="syntax error"):
        queryplan.explain((sql, [()]))
    assert transaction_status() == INTRANS
    assert Customer.objects.count() == 5


# (psycopg 3, psycopg2), for a statement's first EXPLAIN and for the same statement again
# with other values: one pipeline, then one message; psycopg2 needs the savepoint alone
# first until the server has parsed the rest once. Natural mode in autocommit is a plain
# EXPLAIN: nothing set, nothing to roll back.
EXPLAIN_TRIPS = {
    ("transaction", Mode.FORCED): ((1, 3), (1, 2)),
    ("transaction", Mode.NATURAL): ((1, 3), (1, 2)),
    ("autocommit", Mode.FORCED): ((1, 2), (1, 2)),
    ("autocommit", Mode.NATURAL): ((1, 1), (1, 1)),
}
READ_TRIPS = {"transaction": (1, 2), "autocommit": (1, 1)}


@pytest.mark.parametrize("state", ["transaction", "autocommit"])
def test_round_trips_per_explain(counted, state):
    from pytest_queryplan.dialects.postgresql.drivers import parsed

    proxy, backend, wrapper = counted
    if state == "transaction":
        wrapper.set_autocommit(False)
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")  # the transaction is open, as in a test's
    driver = 0 if is_psycopg3() else 1
    sql, params = OWNERS
    for mode in (Mode.FORCED, Mode.NATURAL):
        parsed.PIPELINE.forget()
        parsed.SIMPLE.forget()
        first, again = EXPLAIN_TRIPS[state, mode]
        trips = proxy.count(lambda mode=mode: backend.explain(sql, params, mode=mode))
        assert trips == first[driver], mode
        trips = proxy.count(lambda mode=mode: backend.explain(sql, [2, "admin"], mode=mode))
        assert trips == again[driver], mode
    # A syntax error costs no more, and the session is still usable afterwards.
    with pytest.raises(Exception, match="syntax error"):
        backend.explain("SELEC broken", None, mode=Mode.FORCED)
    assert proxy.count(lambda: backend.index_info([OWNER_INDEX])) == READ_TRIPS[state][driver]
    expected = INTRANS if state == "transaction" else IDLE
    assert int(wrapper.connection.info.transaction_status) == expected
    if state == "transaction":
        wrapper.rollback()


# What one EXPLAIN sends on psycopg 3: the savepoint inside a transaction always (an error
# must not abort the test's transaction, and the rollback releases the locks planning
# took); in autocommit BEGIN ... ROLLBACK only where SET LOCAL needs it. The first time in
# a pipeline, each statement parsed on its own; the same statements with other values
# then in one simple-protocol message.
STATEMENTS = {
    ("transaction", Mode.FORCED): ["SAVEPOINT", "SET", "EXPLAIN", "ROLLBACK", "RELEASE"],
    ("transaction", Mode.NATURAL): ["SAVEPOINT", "EXPLAIN", "ROLLBACK", "RELEASE"],
    ("autocommit", Mode.FORCED): ["BEGIN", "SET", "EXPLAIN", "ROLLBACK"],
    ("autocommit", Mode.NATURAL): ["EXPLAIN"],
}


@pytest.mark.parametrize("state", ["transaction", "autocommit"])
def test_statements_per_explain(counted, monkeypatch, state):
    if not is_psycopg3():
        pytest.skip("psycopg2's statements are counted in round trips above")
    from pytest_queryplan.dialects.postgresql.drivers import parsed, psycopg3

    _, backend, wrapper = counted
    if state == "transaction":
        wrapper.set_autocommit(False)
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
    sent: list[str] = []
    pipeline, simple = psycopg3._pipeline, psycopg3._simple

    def in_pipeline(raw, queries):
        sent.append("pipeline")
        sent.extend(query.decode().split()[0] for query in queries)
        return pipeline(raw, queries)

    def in_one_message(raw, query):
        sent.append("message")
        sent.extend(statement.split()[0] for statement in query.decode().split("; "))
        return simple(raw, query)

    monkeypatch.setattr(psycopg3, "_pipeline", in_pipeline)
    monkeypatch.setattr(psycopg3, "_simple", in_one_message)
    sql, params = OWNERS
    for mode in (Mode.FORCED, Mode.NATURAL):
        parsed.PIPELINE.forget()
        sent.clear()
        backend.explain(sql, params, mode=mode)
        assert sent == ["pipeline", *STATEMENTS[state, mode]], mode
        sent.clear()
        backend.explain(sql, [3, "member"], mode=mode)
        assert sent == ["message", *STATEMENTS[state, mode]], mode
    # A refused plain EXPLAIN in autocommit leaves the session idle and usable.
    with pytest.raises(Exception, match="syntax error"):
        backend.explain("SELEC broken", None, mode=Mode.NATURAL)
    expected = INTRANS if state == "transaction" else IDLE
    assert int(wrapper.connection.info.transaction_status) == expected
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    if state == "transaction":
        wrapper.rollback()


@pytest.mark.parametrize("state", ["transaction", "autocommit"])
def test_a_tests_queries_are_explained_together(counted, state):
    """The guard explains a test's captured queries in one round trip (psycopg 3); one that
    fails sends the rest back one by one, so each keeps its own plan or its own error."""
    proxy, backend, wrapper = counted
    if state == "transaction":
        wrapper.set_autocommit(False)
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
    sql, params = OWNERS
    items = [(sql, params), ("SELECT id FROM upstream_customer WHERE slug = %s", ["x"])] * 2
    trips = proxy.count(lambda: backend.explain_many(items, mode=Mode.FORCED))
    if is_psycopg3():
        assert trips == 1
        raws = backend.explain_many(items, mode=Mode.FORCED)
        assert [raw[0]["Plan"]["Node Type"] for raw in raws] == [
            raw[0]["Plan"]["Node Type"]
            for raw in (backend.explain(s, p, mode=Mode.FORCED) for s, p in items)
        ]
        # One statement the server refuses: no answer for any, the caller goes one by one.
        assert backend.explain_many([*items, ("SELEC broken", None)], mode=Mode.FORCED) is None
    else:
        assert backend.explain_many(items, mode=Mode.FORCED) is None  # one by one on psycopg2
    expected = INTRANS if state == "transaction" else IDLE
    assert int(wrapper.connection.info.transaction_status) == expected
