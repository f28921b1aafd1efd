"""Response bodies in ChartMogul's published shapes, built from landed objects.

uuids are the warehouse's deterministic ones (schema.deterministic_uuid), the same the marts show. Fields
without a value are left out rather than sent as null: the official clients' schemas refuse null in some.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mrr_warehouse.schema import deterministic_uuid
from mrr_warehouse.validation import Problem


def uuid_of(prefix: str, data_source_uuid: str, object_type: str, external_id: str) -> str:
    return deterministic_uuid(prefix, data_source_uuid, object_type, external_id)


def stable_id(*parts: str) -> int:
    """A stable integer id where ChartMogul has integer ids (customers, subscription events)."""
    return int(hashlib.md5(":".join(parts).encode()).hexdigest()[:12], 16)


def _compact(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def data_source(row: tuple[Any, ...]) -> dict[str, Any]:
    uuid, name, created_at, auto_churn_enabled, interval = row
    return _compact(
        {
            "uuid": uuid,
            "name": name,
            "created_at": created_at.isoformat() + "Z" if created_at else None,
            "status": "idle",
            "system": "Import API",
            "auto_churn_subscription_setting": {"enabled": bool(auto_churn_enabled), "interval": interval},
        }
    )


def customer(data_source_uuid: str, body: dict[str, Any]) -> dict[str, Any]:
    external_id = body.get("external_id") or ""
    attributes = body.get("attributes") if isinstance(body.get("attributes"), dict) else {}
    custom = attributes.get("custom")
    if isinstance(custom, list):  # sent as [{type, key, value}], answered as {key: value}
        custom = {item.get("key"): item.get("value") for item in custom if isinstance(item, dict)}
    return _compact(
        {
            "id": stable_id(data_source_uuid, "customer", external_id),
            "uuid": uuid_of("cus", data_source_uuid, "customer", external_id),
            "external_id": external_id,
            "external_ids": [external_id],
            "data_source_uuid": data_source_uuid,
            "data_source_uuids": [data_source_uuid],
            "name": body.get("name"),
            "email": body.get("email"),
            "company": body.get("company"),
            "country": body.get("country"),
            "state": body.get("state"),
            "city": body.get("city"),
            "zip": body.get("zip"),
            "lead_created_at": body.get("lead_created_at"),
            "free_trial_started_at": body.get("free_trial_started_at"),
            "website_url": body.get("website_url"),
            "attributes": {"tags": list(attributes.get("tags") or []), "custom": custom or {}},
            "address": {
                "address_zip": body.get("zip"),
                "city": body.get("city"),
                "state": body.get("state"),
                "country": body.get("country"),
            },
        }
    )


def plan(data_source_uuid: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return _compact(
        {
            "uuid": uuid_of("pl", data_source_uuid, "plan", key),
            "data_source_uuid": data_source_uuid,
            "name": body.get("name"),
            "interval_count": body.get("interval_count"),
            "interval_unit": body.get("interval_unit"),
            "external_id": body.get("external_id") or key,
        }
    )


def line_item(data_source_uuid: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    subscription = body.get("subscription_external_id")
    plan_key = body.get("plan_external_id")
    return _compact(
        {
            **{
                name: value
                for name, value in body.items()
                if name not in ("plan_external_id", "invoice_external_id")
            },
            "uuid": uuid_of("li", data_source_uuid, "line_item", key),
            "subscription_uuid": uuid_of("sub", data_source_uuid, "subscription", subscription)
            if subscription
            else None,
            "plan_uuid": body.get("plan_uuid")
            or (uuid_of("pl", data_source_uuid, "plan", plan_key) if plan_key else None),
        }
    )


def transaction(data_source_uuid: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return _compact(
        {
            **{name: value for name, value in body.items() if name != "invoice_external_id"},
            "uuid": uuid_of("tr", data_source_uuid, "transaction", key),
        }
    )


def invoice(
    data_source_uuid: str,
    key: str,
    body: dict[str, Any],
    line_items: list[tuple[str, dict[str, Any]]],
    transactions: list[tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    customer_key = body.get("customer_external_id")
    return _compact(
        {
            **{name: value for name, value in body.items() if name not in ("line_items", "transactions")},
            "uuid": uuid_of("inv", data_source_uuid, "invoice", key),
            "data_source_uuid": data_source_uuid,
            "customer_uuid": uuid_of("cus", data_source_uuid, "customer", customer_key)
            if customer_key
            else None,
            "line_items": [line_item(data_source_uuid, k, b) for k, b in line_items],
            "transactions": [transaction(data_source_uuid, k, b) for k, b in transactions],
        }
    )


def subscription_event(data_source_uuid: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return _compact(
        {
            **body,
            "id": stable_id(data_source_uuid, "subscription_event", key),
            "data_source_uuid": data_source_uuid,
        }
    )


def contact(data_source_uuid: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    customer_key = body.get("customer_external_id")
    return _compact(
        {
            **{name: value for name, value in body.items() if name != "customer_uuid"},
            "uuid": uuid_of("con", data_source_uuid, "contact", key),
            "data_source_uuid": data_source_uuid,
            "customer_uuid": uuid_of("cus", data_source_uuid, "customer", customer_key)
            if customer_key
            else None,
        }
    )


def problems(errors: list[Problem]) -> list[dict[str, Any]]:
    """Per-object errors: which object (type, external id or position), which field, what is wrong."""
    return [
        _compact(
            {
                "object_type": problem.object_type,
                "external_id": problem.external_id,
                "position": problem.position,
                "context": problem.context,
                "field": problem.field,
                "message": problem.message,
            }
        )
        for problem in errors
    ]


def unprocessable(errors: list[Problem]) -> dict[str, Any]:
    """ChartMogul's 422 body: `errors` keyed by field, plus each object's errors."""
    by_field: dict[str, str] = {}
    for problem in errors:
        by_field.setdefault(problem.field or "base", problem.message)
    first = errors[0].message if errors else "unprocessable"
    return {"code": 422, "message": first, "errors": by_field, "objects": problems(errors)}
