"""docs/SECURITY.md: one "What a verifier refuses" table, and everything it cites exists.

Each row's last column names its proofs: vector cases “in curly quotes” (a case name of
tests/vectors/attacks.json or tests/vectors/mcp.json) and files in backticks, optionally with
`::name` (a test or function that must appear in that file).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "SECURITY.md"
HEADING = "## What a verifier refuses"


def case_names() -> set[str]:
    names: set[str] = set()
    for f in ("attacks.json", "mcp.json"):
        names |= {c["name"] for c in json.loads((ROOT / "tests" / "vectors" / f).read_text())["cases"]}
    return names


def rows(text: str) -> list[list[str]]:
    """The table rows (header and rule excluded) of the section, as cells."""
    lines = text.split("\n")
    start = lines.index(HEADING)
    out: list[list[str]] = []
    header_seen = False
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if not header_seen:
            assert cells == ["area", "input", "outcome", "proved by"], cells
            header_seen = True
            continue
        if set(line) <= set("|-: "):
            continue
        # A header row repeated mid-table (two merged tables) is a row like any other: refused.
        assert cells[:2] != ["area", "input"], f"a repeated header row: {line}"
        out.append(cells)
    return out


def problems(text: str, names: set[str]) -> list[str]:
    """Everything wrong with the section: a second copy, a malformed or duplicate row, a cited
    case or file that does not exist."""
    found: list[str] = []
    count = sum(1 for line in text.split("\n") if line.strip().lower() == HEADING.lower())
    if count != 1:
        found.append(f"{count} '{HEADING}' sections")
    table = rows(text)
    if not table:
        found.append("no rows")
    seen: set[tuple[str, str]] = set()
    for cells in table:
        if len(cells) != 4:
            found.append(f"a row of {len(cells)} cells: {cells}")
            continue
        area, what, _, proof = cells
        if (area, what) in seen:
            found.append(f"a duplicate row: {what}")
        seen.add((area, what))
        cases = re.findall(r"“([^”]+)”", proof)
        files = re.findall(r"`([^`]+)`", proof)
        if not cases and not files:
            found.append(f"a row citing nothing: {what}")
        for case in cases:
            if case not in names:
                found.append(f"no vector case named {case!r}")
        for ref in files:
            path, _, name = ref.partition("::")
            f = ROOT / path
            if not f.is_file():
                found.append(f"no file {path}")
            elif name and name not in f.read_text(encoding="utf-8"):
                found.append(f"{path} has no {name}")
    return found


def test_the_table_is_one_and_every_citation_exists() -> None:
    assert problems(DOC.read_text(encoding="utf-8"), case_names()) == []


ROW = "| resources | an empty request resource | `invalid_request` | {} |"


@pytest.mark.parametrize(
    ("proof", "problem"),
    [
        ("“resource: no such case”", "no vector case named 'resource: no such case'"),
        ("`core/tests/attacks/nowhere.rs`", "no file core/tests/attacks/nowhere.rs"),
        ("`core/src/resource.rs::no_such_test_name`", "core/src/resource.rs has no no_such_test_name"),
        ("nothing cited", "a row citing nothing: an empty request resource"),
    ],
)
def test_the_check_fails_on_a_bad_citation(proof: str, problem: str) -> None:
    doc = f"{HEADING}\n\n| area | input | outcome | proved by |\n|---|---|---|---|\n{ROW.format(proof)}\n"
    assert problem in problems(doc, case_names())


def test_the_check_fails_on_a_second_table_or_a_repeated_header() -> None:
    good = f"{HEADING}\n\n| area | input | outcome | proved by |\n|---|---|---|---|\n{ROW.format('“resource: empty is refused (any right)”')}\n"
    assert problems(good, case_names()) == []
    assert "2 '## What a verifier refuses' sections" in problems(good + "\n" + good, case_names())
    assert "a duplicate row: an empty request resource" in problems(good + ROW.format("`core/src/resource.rs`") + "\n", case_names())
    with pytest.raises(AssertionError, match="repeated header"):
        rows(good + "| area | input | outcome | proved by |\n")
