"""The object-type registry against the other places that must agree with it: the SQL types staging gives
fields (macros/staged_types.sql, the one map the models read) and the staging models it names."""

from __future__ import annotations

import re
from pathlib import Path

from mrr_warehouse import object_types, shapes

ROOT = Path(__file__).resolve().parents[2]


def _macro_types() -> dict[str, dict[str, str]]:
    macro = (ROOT / "macros" / "staged_types.sql").read_text()
    return {
        object_type: dict(re.findall(r"'(\w+)': '(\w+)'", fields))
        for object_type, fields in re.findall(r"'(\w+)': \{([^{}]*)\}", macro)
    }


def test_the_staged_types_macro_is_exactly_what_the_registry_derives_from_its_field_kinds():
    derived = {
        entry.name: entry.staged_types() for entry in object_types.TYPES.values() if entry.staged_types()
    }
    macro = _macro_types()
    assert set(macro) == {"customer", "plan", "invoice", "line_item", "transaction", "subscription_event"}
    assert macro == derived


def test_every_staging_model_the_registry_names_exists():
    for entry in object_types.TYPES.values():
        assert entry.staging_model is not None, entry.name
        assert (ROOT / "models" / "staging" / f"{entry.staging_model}.sql").is_file(), entry.staging_model


def test_bulk_requests_are_read_in_the_registry_order_what_is_referred_to_first():
    assert shapes.ARRAYS == (
        "customers",
        "plans",
        "invoices",
        "line_items",
        "transactions",
        "subscription_events",
        "contacts",
    )
    assert object_types.IMMUTABLE == {"invoice", "line_item", "transaction"}
