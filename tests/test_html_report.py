"""``--queryplan-html``: a real guarded run with a seeded regression writes one page that
draws the regression's plan with the offending node marked and names the code line, shows a
changed snapshot as two trees, and carries the same details through xdist and ``merge``.
The page is opened in headless Chromium (Playwright driving Debian's ``chromium``): no
console error, no network request, the marked node visible, a closed subtree opens, and a
screenshot is written under ``build/artifacts/``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

ARTIFACTS = REPO_ROOT / "build" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# The application: the owner count of upstream's permission check, seeded with the
# regression the README describes (role__iexact: the index narrows by customer only), and
# a report query whose union has enough nodes that the page opens with subtrees closed.
APP = """
from upstream.models import Customer, UserProfile


def owner_count(customer_id):
    return UserProfile.objects.filter(customer_id=customer_id, role__iexact="owner").count()


def customers_named(name):
    return list(Customer.objects.filter(name=name).values_list("id", flat=True))


def dashboard_ids(name):
    query = Customer.objects.filter(name=name).values_list("id")
    for number in range(8):
        query = query.union(
            UserProfile.objects.filter(customer__slug=f"s{number}", role="owner").values_list(
                "customer_id"
            ),
            all=True,
        )
    return list(query)
"""

FIRST = """
import pytest
from upstream.alerts.models import AlertRule

pytestmark = pytest.mark.django_db


@pytest.mark.queryplan
def test_rules():
    list(AlertRule.objects.filter(customer_id=1, enabled=True).order_by("-routing_priority")[:10])
"""

# The regression (owner count), a guard finding (customers by name, no index on name), a
# big plan (the dashboard), and the rules query reordered: its snapshot changes.
SECOND = """
import pytest
from upstream.alerts.models import AlertRule

import shop_app

pytestmark = pytest.mark.django_db


def test_owner_count(assert_uses_index):
    with assert_uses_index("userprofile_customer_role_idx"):
        shop_app.owner_count(1)


def test_customers_by_name():
    assert shop_app.customers_named("Acme") == []


def test_dashboard():
    assert shop_app.dashboard_ids("Acme") == []


@pytest.mark.queryplan
def test_rules():
    list(AlertRule.objects.filter(customer_id=1, enabled=True).order_by("name")[:10])
"""

FLAGS = ["--queryplan-guard=fail", "--queryplan-guard-scope=app", "--queryplan-snapshot"]


def guarded_run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The seeded suite's baseline written, then the regression run with the guard."""
    pytester.makepyfile(shop_app=APP, test_shop=FIRST)
    pytester.runpytest_subprocess("--queryplan-snapshot-update").assert_outcomes(passed=1)
    pytester.makepyfile(test_shop=SECOND)
    result = pytester.runpytest_subprocess(*FLAGS, *args)
    result.assert_outcomes(failed=4)
    return result


def trees(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="queryplan-trees">(.*?)</script>', page)
    assert match is not None
    return json.loads(match.group(1))


def nodes(tree: dict[str, Any]) -> list[dict[str, Any]]:
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.get("children", []))
    return found


def test_the_page_draws_the_regression_and_the_snapshot_change(
    django_pytester: pytest.Pytester,
) -> None:
    guarded_run(django_pytester, "--queryplan-html=out/report.html")
    page = (django_pytester.path / "out" / "report.html").read_text()
    drawn = trees(page)

    # The regression: its plan drawn, the Bitmap Heap Scan whose Filter checks role row by
    # row marked, the named index marked where it appears, the application line named.
    owner = next(t for t in drawn.values() if t["named"] == "userprofile_customer_role_idx")
    plan = nodes(owner["tree"])
    marked = [n for n in plan if "mark" in n]
    assert [n["mark"] for n in marked] == [
        "Filter checks role row by row",
        "userprofile_customer_role_idx scanned, but a key column's condition left to the Filter",
    ]
    assert marked[0]["conditions"] == [
        ["Recheck Cond", marked[0]["conditions"][0][1]],
        ["Filter", "(upper((role)::text) = 'OWNER'::text)"],
    ]
    assert [n["index"] for n in plan if n.get("named")] == ["userprofile_customer_role_idx"]
    assert all("rows" in n and "cost" in n for n in plan)
    assert "shop_app.py:5 in owner_count" in page  # the application line
    assert "test_shop.py:11 in test_owner_count" in page  # and the test's
    assert "<dt>expected</dt><dd>Expected a query in the block to be served by index" in page

    # The guard's finding, drawn too, and the snapshot as two trees with the changes marked.
    assert "filtered-full-read" in page and "upstream_customer" in page
    before = drawn[next(k for k in drawn if k.endswith("-before"))]["tree"]
    after = drawn[next(k for k in drawn if k.endswith("-after"))]["tree"]
    assert [n["label"] for n in nodes(before) if n.get("change")] == [
        "Index Scan using alertrule_eval_priority_idx on upstream_alertrule"
    ]
    assert [n["label"] for n in nodes(after) if n.get("change")][0].startswith("Index Scan using")

    # Self-contained: no external URL anywhere, a policy that forbids fetching one.
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert re.findall(r"""(?:src|href)=["'](?!#)""", page) == []


# Written by every process of the inner run: was anything of the page loaded or registered?
PROBE = """
import os
import sys


def pytest_sessionfinish(session):
    loaded = "pytest_queryplan.core.html" in sys.modules
    registered = session.config.pluginmanager.has_plugin("queryplan-html")
    with open(f"html-{os.getpid()}.txt", "w") as out:
        out.write(f"{loaded} {registered}")
"""


def test_without_the_option_nothing_of_the_page_loads(django_pytester: pytest.Pytester) -> None:
    django_pytester.makeconftest(PROBE)
    guarded_run(django_pytester)
    said = {path.read_text() for path in django_pytester.path.glob("html-*.txt")}
    assert said == {"False False"}
    probe = django_pytester.run(
        sys.executable, "-c", "import sys, pytest_queryplan.plugin; print(sorted(sys.modules))"
    )
    assert "pytest_queryplan.core.html" not in probe.stdout.str()


def without_estimates(report: dict[str, Any]) -> dict[str, Any]:
    """The report as two runs must agree on it: each process has its own plan cache (the
    EXPLAIN count), and the statistics other tests left in its database may move a plan's
    estimates, even its shape, and whether a suggested index was searched when it was
    tried there; what must travel is each detail's marks, and that advice was given."""
    data = json.loads(json.dumps(report))
    data["plans"]["explains_run"] = None
    for entry in data["findings"]:
        entry["advice"] = bool(entry.get("advice"))
    for entry in data["failed_checks"] + data["findings"]:
        # A failure's text draws the plan and the tried suggestion too: both the database's
        # choices on each process's own data. That a text was recorded must travel.
        for holder in (entry, entry.get("detail") or {}):
            if "text" in holder:
                holder["text"] = bool(holder["text"])
        detail = entry.get("detail") or {}
        for query in detail.get("queries", []):
            if "plan" in query:
                query["plan"] = sorted(n["mark"] for n in nodes(query["plan"]) if "mark" in n)
    return data


def test_details_travel_through_xdist_and_merge(django_pytester: pytest.Pytester) -> None:
    guarded_run(django_pytester, "--queryplan-report=serial.json")
    serial = json.loads((django_pytester.path / "serial.json").read_text())
    django_pytester.runpytest_subprocess(*FLAGS, "-n", "2", "--queryplan-report=xdist.json")
    xdist = json.loads((django_pytester.path / "xdist.json").read_text())
    assert serial["queryplan_report"] == 3
    assert serial["databases"][0].startswith("PostgreSQL ")
    assert without_estimates(xdist) == without_estimates(serial)
    details = [f["detail"] for f in serial["failed_checks"]]
    assert all(d["queries"][0]["plan"] for d in details)
    assert serial["snapshots"]["shapes"]["test_shop.py::test_rules"]["before"]

    merged = subprocess.run(
        [sys.executable, "-m", "pytest_queryplan", "merge", "serial.json"]
        + ["--html-output", "merged.html"],
        cwd=django_pytester.path,
        capture_output=True,
        text=True,
    )
    assert merged.returncode == 1, merged.stderr
    page = (django_pytester.path / "merged.html").read_text()
    owner = next(t for t in trees(page).values() if t["named"] == "userprofile_customer_role_idx")
    assert any(n.get("mark") for n in nodes(owner["tree"]))


def browser_or_skip() -> str:
    """Chromium's path; without it the test skips, except where CI says it must run
    (``QUERYPLAN_REQUIRE_BROWSER=1``, which ``.ci/run`` sets after installing it)."""
    if CHROMIUM is not None:
        return CHROMIUM
    reason = "chromium is not installed (apt-get install chromium): the browser test needs it"
    if os.environ.get("QUERYPLAN_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; QUERYPLAN_REQUIRE_BROWSER=1 says this run must have it")
    pytest.skip(reason)


def test_the_page_in_a_real_browser(django_pytester: pytest.Pytester) -> None:
    chromium = browser_or_skip()
    # Playwright is in the suite extra: missing, the environment is broken, not skipped.
    from playwright import sync_api

    guarded_run(django_pytester, "--queryplan-html=report.html")
    path = django_pytester.path / "report.html"
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.as_uri())
            page.wait_for_load_state("load")

            marked = page.locator(".node.marked").first
            marked.scroll_into_view_if_needed()
            assert marked.is_visible()
            assert "row by row" in (marked.get_attribute("data-mark") or "")

            dashboard = page.locator(".tree", has=page.locator(".toggle[aria-expanded=false]"))
            tree = dashboard.first
            before = tree.locator(".node").count()
            toggle = tree.locator(".toggle[aria-expanded=false]").first
            toggle.scroll_into_view_if_needed()
            toggle.click()
            assert tree.locator(".node").count() > before

            assert page.locator(".detail.snapshot .node.changed").count() >= 2
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.locator(".detail.failed").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "queryplan-report.png"), full_page=True)
            shutil.copy(path, ARTIFACTS / "queryplan-report.html")
        finally:
            browser.close()
    assert errors == []
    assert requests == [path.as_uri()]  # the page itself, nothing else
    assert (ARTIFACTS / "queryplan-report.png").stat().st_size > 0
