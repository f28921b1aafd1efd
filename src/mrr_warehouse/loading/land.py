"""Judging and landing: given the newest landed version of an object's identity, accept it (a new version into
raw.objects through the batching writer), count it unchanged, or reject it (immutable types refuse new
content)."""

from __future__ import annotations

from mrr_warehouse import landing, object_types
from mrr_warehouse.loading.context import LoadContext
from mrr_warehouse.loading.items import Item
from mrr_warehouse.loading.references import References

ACCEPT, UNCHANGED, REJECT = "accept", "unchanged", "reject"


def newest(item: Item, seen: dict[str, str], known: landing.Known) -> str | None:
    """Content hash of the newest version of the item's identity: accepted earlier in this batch, else landed."""
    key = item.key or ""
    if key in seen:
        return seen[key]
    landed = known.get((item.object_type, key))
    return landed[0] if landed else None


def classify(item: Item, known_hash: str | None) -> str:
    """accept / unchanged / reject, given the content hash of the newest version of the item's identity."""
    if item.issues:
        return REJECT
    if known_hash is None:
        return ACCEPT
    if known_hash == item.content_hash:
        return UNCHANGED
    if item.object_type in object_types.IMMUTABLE:
        entry = object_types.TYPES[item.object_type]
        item.issues.append(
            (
                "external_id",
                (
                    f"{entry.label} {item.key} already exists with different content;"
                    f" {entry.plural} are immutable: delete it or re-sync the data source first"
                ),
            )
        )
        return REJECT
    return ACCEPT


class Land:
    def __init__(self, ctx: LoadContext, refs: References) -> None:
        self.ctx = ctx
        self.refs = refs
        self.data_source_ensured = False

    def settle(self, item: Item, outcome: str, seen: dict[str, str]) -> None:
        if outcome == ACCEPT:
            seen[item.key or ""] = item.content_hash
            if item.object_type == "invoice":
                self.ctx.rejected_invoices.discard(item.key or "")
            if item.warnings:
                self.ctx.report.warn_item(item)
            self.accept(item)
        elif outcome == UNCHANGED:
            self.ctx.report.unchanged += 1
        else:
            self.ctx.report.reject(item)

    def judge(self, items: list[Item], known: landing.Known) -> None:
        """Settle a batch whose references were checked: in order, each against the newest version so far."""
        seen: dict[str, str] = {}
        settle = self.settle
        for item in items:
            settle(item, classify(item, newest(item, seen, known)), seen)

    def accept(self, item: Item) -> None:
        ctx = self.ctx
        if self.refs.subscription_ids is not None:
            self.refs.note_landed(item)
        if not self.data_source_ensured:
            self.ensure_data_source()
        ctx.writer.add(
            item.object_type,
            item.key or "",
            item.invoice_external_id,
            item.content_hash,
            item.body,
            ctx.request.index,
            item.position,
        )
        ctx.report.accepted += 1
        ctx.request.landed += 1

    def ensure_data_source(self) -> None:
        if not self.data_source_ensured:
            ctx = self.ctx
            landing.ensure_data_source(ctx.con, ctx.source.uuid, ctx.source.name, ctx.started_at)
            self.data_source_ensured = True
