"""GitHub Actions workflow commands: exact lines, and escaping that survives the runner's split."""

from __future__ import annotations

import re

import pytest

from pytest_queryplan.core.report.github import annotation, escape_data, escape_property


def test_an_error_at_its_call_site() -> None:
    assert annotation(
        "fail",
        'Filtered full read of "shop_book": (price = ?)',
        file="shop/views.py",
        line=30,
        title="queryplan: filtered full read",
    ) == (
        "::error file=shop/views.py,line=30,title=queryplan%3A filtered full read"
        '::Filtered full read of "shop_book": (price = ?)'
    )


def test_warn_level_is_a_warning_and_missing_properties_are_left_out() -> None:
    assert annotation("warn", "a finding") == "::warning::a finding"
    assert annotation("warn", "x", line=3) == "::warning::x"  # a line needs a file
    assert annotation("warn", "x", file="a.py", line=0) == "::warning file=a.py::x"


def test_the_documented_escapes() -> None:
    assert escape_data("100%\r\nnext: a, b") == "100%25%0D%0Anext: a, b"
    assert escape_property("100%\r\nnext: a, b") == "100%25%0D%0Anext%3A a%2C b"
    assert escape_data("%0A") == "%250A"  # a literal escape stays literal


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """The runner's reading of a command line: split first, then unescape each part."""
    match = re.fullmatch(r"::(\w+)(?: ([^:]*))?::(.*)", line)
    assert match, line
    command, props, message = match.groups()

    def unescape(text: str, extra: bool) -> str:
        pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if extra else [])
        for code, char in pairs:
            text = text.replace(code, char)
        return text.replace("%25", "%")

    properties = {}
    for item in (props or "").split(","):
        if item:
            key, _, value = item.partition("=")
            properties[key] = unescape(value, extra=True)
    return command, properties, unescape(message, extra=False)


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "a: b, c",
        "two\nlines\r\nand CR",
        "already escaped %0A and %25 and %3A",
        "::error file=x::injected",
        'SELECT "t"."id" FROM "t" WHERE "t"."x" LIKE \'%%a%%\'',
    ],
)
def test_escaping_round_trips_through_the_runners_split(text: str) -> None:
    line = annotation("fail", text, file=f"dir, odd: {text}.py", line=7, title=text)
    assert "\n" not in line and "\r" not in line
    command, properties, message = parse(line)
    assert command == "error"
    assert properties == {"file": f"dir, odd: {text}.py", "line": "7", "title": text}
    assert message == text
