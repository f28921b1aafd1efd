"""The movement types live in one macro (macros/movement_types.sql); the report's Python builds SQL from its own
copy, which must not drift from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mrr_warehouse.report_queries import MOVEMENT_TYPES

PROJECT = Path(__file__).resolve().parents[2]


def macro_movement_types() -> list[str]:
    text = (PROJECT / "macros" / "movement_types.sql").read_text()
    returned = re.search(r"return\((\[.*?\])\)", text, re.DOTALL)
    assert returned, "macros/movement_types.sql no longer returns a list literal"
    return ast.literal_eval(returned.group(1))


def test_the_report_lists_the_movement_types_of_the_macro_in_its_order() -> None:
    assert list(MOVEMENT_TYPES) == macro_movement_types()


def test_no_model_spells_the_list_out_again() -> None:
    spelled_out = re.compile(r"'new_business',\s*'expansion'")
    offenders = [
        str(path.relative_to(PROJECT))
        for folder in ("models", "macros", "tests/dbt")
        for path in (PROJECT / folder).rglob("*.sql")
        if path.name != "movement_types.sql" and spelled_out.search(path.read_text())
    ]
    assert offenders == []
