"""One object on its way through the steps, and the small helpers every step uses."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb

from mrr_warehouse.validation import Issue


@dataclass(slots=True)
class Item:
    """One object of a request on its way to raw.objects."""

    object_type: str
    obj: Any
    position: int | None
    external_id: str | None = None  # the object's own external_id (for messages and load_errors)
    key: str | None = None  # identity key (raw.objects.external_id)
    invoice_external_id: str | None = None
    content_hash: str = ""
    body: str = ""  # str, not orjson's bytes: those keep a ~4 KB buffer each
    issues: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)  # reported when the object lands
    context: str | None = None  # "invoice X" for objects nested in an invoice
    customer: str | None = None  # the invoice's customer, for objects nested in an invoice

    @property
    def valid(self) -> bool:
        return not self.issues


@dataclass(slots=True)
class InvoiceGroup:
    invoice: Item
    customer_external_id: str | None
    line_items: list[Item]
    transactions: list[Item]


def string(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def clip(text: str, size: int = 200) -> str:
    return text if len(text) <= size else text[:size] + "..."


def chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(iterable)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def owning_customer(item: Item) -> str | None:
    """The external_id of the customer an object belongs to, when it or its invoice says so."""
    if item.object_type == "customer":
        return string(item.external_id)
    if item.customer is not None:
        return item.customer
    if isinstance(item.obj, dict):
        return string(item.obj.get("customer_external_id"))
    return None


def internal_error(exc: BaseException) -> str:
    """The rejection message of an object whose handling raised: a bug (or a limit) of the loader, not of the
    object's fields; the rest of the file still lands."""
    text = str(exc)
    if len(text) > 200:
        text = text[:200] + "..."
    return f"internal error: {type(exc).__name__}: {text} (please report it; the rest of the file was loaded)"


def failed_item(object_type: str, obj: Any, position: int | None, exc: Exception) -> Item:
    item = Item(object_type, obj, position, issues=[("", internal_error(exc))])
    if isinstance(obj, dict):
        external_id = string(obj.get("external_id"))
        item.external_id = external_id if external_id is None or len(external_id) <= 1024 else None
    return item


def guarded(
    object_type: str, position: int | None, obj: Any, prepare: Callable[..., Item], *args: Any
) -> Item:
    """Prepare one object; an exception while doing so becomes that object's rejection (an internal error),
    so one odd object never loses the rest of its file."""
    try:
        return prepare(object_type, position, obj, *args)
    except (duckdb.Error, MemoryError):
        raise  # the database or the process is in trouble: nothing after this can be trusted
    except Exception as exc:
        return failed_item(object_type, obj, position, exc)
