"""pytest entry point (``-p no:queryplan`` disables it): every hook the plugin has.

Importing this module must stay cheap: it pulls in option parsing, the marker and the
fixtures; Django and the checks are imported inside functions, when a test needs them.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Sequence
from dataclasses import replace
from typing import Any

import pytest

from pytest_queryplan.databases import check_vendors, uses_database
from pytest_queryplan.fixtures import assert_uses_index, queryplan
from pytest_queryplan.marker import marker_doc, spec_of
from pytest_queryplan.options import (
    add_ci_options,
    add_options,
    check_setup,
    resolve_defaults,
    resolve_run_options,
)
from pytest_queryplan.outputs.collector import ReportCollector
from pytest_queryplan.session import RECORDER_KEY, STALE_OUTPUT, Recorder, is_xdist_worker

__all__ = ["assert_uses_index", "queryplan"]


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)
    add_ci_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_queryplan import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(trylast=True)  # after pytest-django (or a conftest) configured Django
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", marker_doc())
    recorder = Recorder(resolve_run_options(config), resolve_defaults(config))
    recorder.defaults = replace(
        recorder.defaults, on_verdict=recorder.verdict, sites=_SiteFinderOnFirstUse(config)
    )
    config.stash[RECORDER_KEY] = recorder
    if not is_xdist_worker(config):
        check_setup(recorder.run)  # before any test runs: a bad path is one line, not a run
        # Said once per run: a database the guard cannot explain on (error or warning).
        check_vendors(config, recorder.run)
        # Test reports carry no config: the controller's hooks need their own object.
        config.pluginmanager.register(ControllerHooks(recorder, config), "queryplan-report")
        from pytest_queryplan.outputs.writers import writers

        # Registered last to first: pluggy calls the last registered first, and the
        # terminal summary comes before the annotations.
        chosen = writers(recorder.run, config.rootpath)
        for name, writer in reversed(chosen.items()):
            config.pluginmanager.register(writer, name)


class _SiteFinderOnFirstUse:
    """``db.sites.SiteFinder`` for this run, imported and made when a query is first
    captured: a run that captures nothing (no Django, no database test) never loads it."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.finder: Any = None

    def get(self) -> Any:
        if self.finder is None:
            from pytest_queryplan.core.report.callsite import in_test_code
            from pytest_queryplan.db.sites import SiteFinder

            patterns = self.config.getini("python_files")
            self.finder = SiteFinder(in_test_code(patterns, str(self.config.rootpath)))
        return self.finder

    def __call__(self, frame: Any = None) -> Any:
        return self.get()(frame)

    def origin(self, frame: Any, *, built: bool = True) -> Any:
        return self.get().origin(frame, built=built)

    def call(self, frame: Any) -> int:
        return int(self.get().call(frame))

    def built_by_test(self, frame: Any) -> bool:
        return bool(self.get().built_by_test(frame))

    def forget(self) -> None:
        if self.finder is not None:
            self.finder.forget()

    @property
    def is_test(self) -> Any:
        return self.get().is_test


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Bad marker arguments are a usage error of the whole run, found before anything runs;
    # the spec read here is the one the test runs with.
    for item in items:
        spec_of(item)


def pytest_deselected(items: Sequence[pytest.Item]) -> None:
    if items:
        items[0].config.stash[RECORDER_KEY].deselected.update(i.nodeid for i in items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Snapshot files that no collected (or deselected) marked test produces any more."""
    config = session.config
    recorder = config.stash[RECORDER_KEY]
    if recorder.run.snapshot == "off":
        return
    from pytest_queryplan.core.report.snapshot import stale

    marked = {item.nodeid for item in session.items if item.get_closest_marker("queryplan")}
    known = {item.nodeid for item in session.items} | recorder.deselected
    produced = marked | recorder.deselected  # a deselected test's baseline is not stale
    narrowed = _narrowed_modules(config)
    recorder.stale = stale(recorder.run.snapshot_dir, config.rootpath, produced, known, narrowed)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[STALE_OUTPUT] = recorder.stale


def _fail_without_database() -> None:
    # The fixture's one line, not pytest-django's RuntimeError and its traceback. Raised
    # from here, a frame pytest keeps: with every frame hidden it adds a line about that.
    pytest.fail(
        "@pytest.mark.queryplan needs the database, and this test may not use it: "
        "mark the test with @pytest.mark.django_db (or request the db fixture).",
        pytrace=False,
    )


def _narrowed_modules(config: pytest.Config) -> set[str]:
    """Modules (as node ids spell them) of which the command line named single tests
    (``path::test``): the other tests' baselines there are not stale, only not collected."""
    modules = set()
    for arg in config.args:
        if "::" not in arg:
            continue
        path = (config.invocation_params.dir / arg.partition("::")[0]).resolve()
        if path.is_relative_to(config.rootpath):
            modules.add(path.relative_to(config.rootpath).as_posix())
    return modules


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    __tracebackhide__ = True  # a failed check shows its message, not this wrapper's code
    spec = spec_of(item)
    if not uses_database(item):
        if spec is not None:
            _fail_without_database()
        return (yield)  # a test that never touches the database costs nothing
    from pytest_queryplan.watch import TestWatch

    recorder = item.config.stash[RECORDER_KEY]
    recorder.defaults.index_cache.clear()  # what the catalog said holds for one test
    watch = TestWatch(item, spec, recorder)
    with watch.recording():
        if watch.watches_method():
            # unittest: setUp, the method, tearDown and the rollback all run in this phase;
            # the watch goes inside the method, so it judges before the rollback.
            with watch.inside_method():
                return (yield)
        with watch.capturing():
            result = yield
        watch.verdict()
    return result


class ControllerHooks:
    """Where the test reports end up (a serial run, or xdist's controller)."""

    def __init__(self, recorder: Recorder, config: pytest.Config) -> None:
        self.recorder = recorder
        self.config = config
        self.collector = ReportCollector(recorder, config)
        self.written = False
        #: Every test that ran (the baseline's "gone" entries are only of tests that ran).
        self.ran: set[str] = set()
        #: Outputs that could not be written, one line each.
        self.errors: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # The record is made in the call phase; later reports carry the same properties.
        if report.when == "call":
            self.ran.add(report.nodeid)
            if report.user_properties:
                self.collector.add(report.nodeid, report.user_properties)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", None) or {}
        self.collector.add_stale(output.get(STALE_OUTPUT, ()))

    def pytest_sessionfinish(self) -> None:
        self.collector.add_stale(self.recorder.stale)  # a serial run's own
        try:
            self.collector.settle_baseline(self.ran)
        except Exception as exc:  # one clear line, and the summary is still written
            self.errors.append(f"--queryplan-baseline: {_problem(exc)}")

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        self.write(terminalreporter)

    def pytest_unconfigure(self) -> None:
        self.write(None)  # pytest's terminal plugin disabled: the files are written still

    def write(self, terminalreporter: pytest.TerminalReporter | None) -> None:
        """Every output writer, once; one that fails is one line, and the others still
        write (the terminal summary first, so the failures found are always shown)."""
        if self.written:
            return
        self.written = True
        arguments = {"collector": self.collector, "terminalreporter": terminalreporter}
        caller = self.config.hook.pytest_queryplan_write_report
        # pluggy calls the last registered first: the same order, one call per writer.
        for implementation in reversed(caller.get_hookimpls()):
            try:
                implementation.function(*(arguments[name] for name in implementation.argnames))
            except Exception as exc:
                what = getattr(implementation.plugin, "what", implementation.plugin_name)
                self.errors.append(f"{what}: {_problem(exc)}")
        for error in self.errors:
            line = f"queryplan: could not write {error}"
            if terminalreporter is not None:
                terminalreporter.write_line(line, red=True)
            else:
                sys.stderr.write(line + "\n")


def _problem(exc: BaseException) -> str:
    """An error in one line: an OSError's reason and file, else the exception's text."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
