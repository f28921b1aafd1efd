"""Sample data: deterministic, realistic ChartMogul Import API request files (`mrr-warehouse generate`).

The output is a directory of request bodies that `mrr-warehouse load --data-source NAME DIR` loads
in name order:

- `000_plans.json`: one bulk request with every plan (monthly tiers, a per-seat plan, quarterly, annual,
  a 14-day plan, a free plan and an add-on).
- `001_bulk.json`, `002_bulk.json`, ...: one bulk request per chunk of customers, with the flat arrays
  `customers`, `invoices`, `line_items` and `transactions`.
- `900_cancellations.ndjson`: one cancellation request (`PATCH /import/subscriptions/{uuid}` body) per line.

Every customer gets its own `random.Random` derived from the seed and its index, so the same arguments give
byte-identical files, and a customer's history does not depend on the chunk size. Invalid objects (the share
given by `invalid_share`) are drawn from a separate generator, so changing that share changes nothing else.

Dates are handled as proleptic ordinals (`date.toordinal()`): a monthly subscription is anchored at a month
index and a day 1-28, so "the same day next month" is always a valid date. Every timestamp of a customer uses
that customer's time of day. Nothing is dated on or after the end of the window; the last service period of a
subscription that is still running may end after it.
"""

from __future__ import annotations

import argparse
import bisect
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from random import Random
from typing import Any

import orjson

DEFAULT_START_DATE = date(2023, 1, 1)
DEFAULT_CHUNK_SIZE = 10_000
DEFAULT_INVALID_SHARE = 0.001
DEFAULT_EXISTING_SHARE = 0.2
PLANS_FILE = "000_plans.json"
CANCELLATIONS_FILE = "900_cancellations.ndjson"
MAX_BULK_FILES = 899  # bulk files are 001..899, so they sort between the plans and the cancellations

# ----------------------------------------------------------------------------------------------------------
# Plans: (external_id, name, interval_count, interval_unit, price in USD cents)
# ----------------------------------------------------------------------------------------------------------
PLANS: tuple[tuple[str, str, int, str, int], ...] = (
    ("starter_monthly", "Starter Monthly", 1, "month", 2900),
    ("pro_monthly", "Pro Monthly", 1, "month", 7900),
    ("business_monthly", "Business Monthly", 1, "month", 19900),
    ("team_monthly", "Team Monthly (per seat)", 1, "month", 1500),
    ("pro_quarterly", "Pro Quarterly", 3, "month", 21300),
    ("pro_annual", "Pro Annual", 1, "year", 79000),
    ("business_annual", "Business Annual", 1, "year", 199000),
    ("sprint_14d", "Sprint Pass (14 days)", 14, "day", 1900),
    ("free_monthly", "Free", 1, "month", 0),
    ("analytics_addon_monthly", "Analytics Add-on Monthly", 1, "month", 4900),
)
# Length of a plan's period: in months (0 for day plans), or in days for day plans.
PLAN_MONTHS = {pid: {"month": count, "year": 12 * count}.get(unit, 0) for pid, _, count, unit, _ in PLANS}
PLAN_DAYS = {pid: count for pid, _, count, unit, _ in PLANS if unit == "day"}

# Prices per currency (one currency per customer). EUR and GBP price points are rounded to whole units.
_FX_PRICE = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79}
PRICES: dict[str, dict[str, int]] = {
    cur: {p[0]: round(p[4] * f / 100.0) * 100 for p in PLANS} for cur, f in _FX_PRICE.items()
}

MONTHLY_TIERS = ("starter_monthly", "pro_monthly", "business_monthly")
ANNUAL_OF = {
    "starter_monthly": "pro_annual",
    "pro_monthly": "pro_annual",
    "business_monthly": "business_annual",
}
MONTHLY_OF = {"pro_annual": "pro_monthly", "business_annual": "business_monthly"}

# First plan of a paying customer: cumulative weights.
_START_PLANS = (
    ("starter_monthly", 0.25),
    ("pro_monthly", 0.20),
    ("business_monthly", 0.08),
    ("team_monthly", 0.12),
    ("pro_quarterly", 0.08),
    ("pro_annual", 0.10),
    ("business_annual", 0.04),
    ("sprint_14d", 0.05),
    ("free_monthly", 0.08),
)
_START_CUM: list[float] = []
_acc = 0.0
for _plan, _weight in _START_PLANS:
    _acc += _weight
    _START_CUM.append(_acc)
_START_NAMES = [p for p, _ in _START_PLANS]

# Probability that a subscription is cancelled during / at the end of one service period.
CHURN_P = {
    "starter_monthly": 0.035,
    "pro_monthly": 0.025,
    "business_monthly": 0.015,
    "team_monthly": 0.02,
    "pro_quarterly": 0.06,
    "pro_annual": 0.15,
    "business_annual": 0.10,
    "sprint_14d": 0.02,
    "free_monthly": 0.03,
    "analytics_addon_monthly": 0.04,
}

# Currency -> ((country, tax rate in basis points), ...). USD customers pay sales tax only in some states.
COUNTRIES = {
    "USD": (("US", 0), ("US", 0), ("US", 0), ("US", 800), ("CA", 0)),
    "EUR": (("DE", 1900), ("FR", 2000), ("NL", 2100), ("ES", 2100), ("IE", 2300)),
    "GBP": (("GB", 2000),),
}
CITIES = {
    "US": ("New York", "San Francisco", "Austin", "Chicago", "Seattle"),
    "CA": ("Toronto", "Vancouver", "Montreal"),
    "DE": ("Berlin", "Munich", "Hamburg"),
    "FR": ("Paris", "Lyon", "Toulouse"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht"),
    "ES": ("Madrid", "Barcelona", "Valencia"),
    "IE": ("Dublin", "Cork", "Galway"),
    "GB": ("London", "Manchester", "Edinburgh", "Bristol"),
}
FIRST_NAMES = (
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Edsger",
    "Radia", "Tim", "Hedy", "Guido", "Katherine", "John", "Sophie", "Niklaus", "Joan", "Bjarne",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson", "Allen",
    "Dijkstra", "Perlman", "Berners-Lee", "Lamarr", "van Rossum", "Johnson", "Backus", "Wilson", "Wirth",
    "Clarke", "Stroustrup",
)  # fmt: skip
COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Wonka", "Tyrell",
    "Cyberdyne", "Soylent", "Massive", "Aperture", "Gringotts", "Oscorp", "Monarch", "Dunder", "Pied",
    "Prestige",
)  # fmt: skip
COMPANY_SUFFIXES = ("Inc", "LLC", "GmbH", "Ltd", "Labs", "Group", "Systems", "Studio")
CHANNELS = ("organic", "paid_search", "partner", "outbound", "referral")

# Coupons: (code, discount in basis points, number of invoices it applies to; 0 = forever).
COUPONS = (("WELCOME20", 2000, 3), ("PARTNER10", 1000, 0))


# ----------------------------------------------------------------------------------------------------------
# Calendar
# ----------------------------------------------------------------------------------------------------------
class Calendar:
    """Month starts and day strings for the window, as ordinals."""

    def __init__(self, start: date, months: int) -> None:
        self.start = start
        self.months = months
        y, m = start.year, start.month
        # month k of the window starts at month_start[k]; far enough ahead for an annual period started late.
        self.month_start: list[int] = []
        for _ in range(months + 16):
            self.month_start.append(date(y, m, 1).toordinal())
            m += 1
            if m > 12:
                y, m = y + 1, 1
        self.first = start.toordinal()
        self.end = self.month_start[months]  # exclusive: nothing is dated on or after it
        self._base = self.first
        last = self.month_start[-1] + 40
        self._days = [date.fromordinal(o).isoformat() + " " for o in range(self._base, last)]

    def day(self, ordinal: int) -> str:
        """'YYYY-MM-DD ' (with the trailing space a time of day is appended to)."""
        return self._days[ordinal - self._base]

    def month_index(self, ordinal: int) -> int:
        return bisect.bisect_right(self.month_start, ordinal) - 1

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end - 1)


# ----------------------------------------------------------------------------------------------------------
# Output accumulation
# ----------------------------------------------------------------------------------------------------------
@dataclass
class Counts:
    customers: int = 0
    invoices: int = 0
    line_items: int = 0
    transactions: int = 0
    cancellations: int = 0
    invalid_objects: int = 0


@dataclass
class Batch:
    """Objects of the customers generated since the last flush (a few hundred customers at most)."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    line_items: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    cancellations: list[dict[str, Any]] = field(default_factory=list)


class ChunkWriter:
    """Serialises batches into the four arrays of one bulk file; memory is bounded by one chunk's bytes."""

    KEYS = ("customers", "invoices", "line_items", "transactions")

    def __init__(self) -> None:
        self.parts: dict[str, bytearray] = {k: bytearray() for k in self.KEYS}

    def add(self, batch: Batch) -> None:
        for key in self.KEYS:
            items = getattr(batch, key)
            if not items:
                continue
            buf = self.parts[key]
            if buf:
                buf += b","
            buf += orjson.dumps(items)[1:-1]
            items.clear()

    def write(self, path: Path, external_id: str) -> int:
        with path.open("wb") as f:
            f.write(b'{"external_id":' + orjson.dumps(external_id))
            for key in self.KEYS:
                f.write(b',"' + key.encode() + b'":[')
                f.write(self.parts[key])
                f.write(b"]")
            f.write(b"}\n")
            size = f.tell()
        self.parts = {k: bytearray() for k in self.KEYS}
        return size


# ----------------------------------------------------------------------------------------------------------
# One customer
# ----------------------------------------------------------------------------------------------------------
def _tax(net: int, bp: int) -> int:
    """Tax on `net` cents at `bp` basis points, rounded half away from zero."""
    if bp == 0 or net == 0:
        return 0
    if net > 0:
        return (net * bp + 5000) // 10000
    return -((-net * bp + 5000) // 10000)


class CustomerBuilder:
    """Builds the whole history of one customer into a Batch."""

    def __init__(
        self,
        cal: Calendar,
        batch: Batch,
        counts: Counts,
        invalid_rng: Random,
        invalid_share: float,
        existing_share: float,
    ) -> None:
        self.cal = cal
        self.existing_share = existing_share
        self.batch = batch
        self.counts = counts
        self.invalid_rng = invalid_rng
        self.invalid_share = invalid_share

    # ---- helpers ------------------------------------------------------------------------------------------
    def _ts(self, ordinal: int) -> str:
        return self.cal.day(ordinal) + self.tod

    def _invalid(self) -> bool:
        return self.invalid_share > 0 and self.invalid_rng.random() < self.invalid_share

    def _new_invoice(self, ordinal: int) -> str:
        self.n_invoices += 1
        inv = f"{self.cid}-I{self.n_invoices:03d}"
        self.batch.invoices.append(
            {
                "external_id": inv,
                "date": self._ts(ordinal),
                "currency": self.currency,
                "customer_external_id": self.cid,
            }
        )
        self.counts.invoices += 1
        return inv

    def _line(self, line: dict[str, Any]) -> dict[str, Any]:
        self.batch.line_items.append(line)
        self.counts.line_items += 1
        return line

    def _one_time(self, inv: str, n: int, amount: int, description: str) -> int:
        tax = _tax(amount, self.tax_bp)
        line: dict[str, Any] = {
            "invoice_external_id": inv,
            "external_id": f"{inv}-{n}",
            "type": "one_time",
            "amount_in_cents": amount + tax,
            "quantity": 1,
            "description": description,
        }
        if tax:
            line["tax_amount_in_cents"] = tax
        self._line(line)
        if self._invalid():  # a missing required field: the loader rejects this line, the invoice stays
            del line["amount_in_cents"]
            self.counts.invalid_objects += 1
            return 0
        return amount + tax

    def _txn(self, inv: str, n: int, kind: str, result: str, ordinal: int, amount: int | None) -> None:
        txn: dict[str, Any] = {
            "invoice_external_id": inv,
            "external_id": f"{inv}-T{n}",
            "type": kind,
            "result": result,
            "date": self._ts(ordinal),
        }
        if amount is not None:
            txn["amount_in_cents"] = amount
        if self._invalid():
            variant = self.invalid_rng.randrange(2)
            if variant == 0:
                txn["type"] = kind + "s"  # unknown enum, as in ChartMogul's tutorial ("payments")
            else:
                del txn["result"]  # missing required field
            self.counts.invalid_objects += 1
        self.batch.transactions.append(txn)
        self.counts.transactions += 1

    def _pay(self, inv: str, ordinal: int, total: int, may_fail_hard: bool) -> bool:
        """Transactions for an invoice; returns True when the payment failed for good (involuntary churn)."""
        if total <= 0:
            return False
        rng, end = self.rng, self.cal.end
        r = rng.random()
        paid_on: int | None = ordinal
        hard_fail = False
        n = 1
        if r < 0.012 and may_fail_hard:
            self._txn(inv, 1, "payment", "failed", ordinal, None)
            retry = ordinal + 3
            if retry < end:
                self._txn(inv, 2, "payment", "failed", retry, None)
            paid_on, hard_fail = None, True
        elif r < 0.07:
            self._txn(inv, 1, "payment", "failed", ordinal, None)
            retry = ordinal + rng.randint(1, 4)
            if retry < end:
                n = 2
                paid_on = retry
            else:
                paid_on = None
        if paid_on is not None:
            amount = total if rng.random() < 0.3 else None
            self._txn(inv, n, "payment", "successful", paid_on, amount)
            if rng.random() < 0.015:
                refund_on = paid_on + rng.randint(1, 20)
                if refund_on < end:
                    refund = total if rng.random() < 0.6 else total // 2
                    self._txn(inv, n + 1, "refund", "successful", refund_on, refund)
        return hard_fail

    def _cancel_request(self, sub: str, ordinal: int) -> None:
        self.batch.cancellations.append({"subscription_external_id": sub, "cancelled_at": self._ts(ordinal)})
        self.counts.cancellations += 1

    # ---- a subscription -----------------------------------------------------------------------------------
    def _subscription(
        self,
        sub: str,
        plan: str,
        qty: int,
        k: int,
        day: int,
        coupon: tuple[str, int, int] | None,
        setup_fee: bool,
        forced_cancel: int | None = None,
        allow_changes: bool = True,
    ) -> int | None:
        """Invoices of one subscription from month index k, day `day`; returns its cancellation ordinal."""
        rng, cal = self.rng, self.cal
        end = cal.end
        ms = cal.month_start
        prices = self.prices
        tax_bp = self.tax_bp
        ps = ms[k] + day - 1
        period = 0
        while ps < end:
            months = PLAN_MONTHS[plan]
            pe = ms[k + months] + day - 1 if months else ps + PLAN_DAYS[plan]
            period += 1
            gross = prices[plan] * qty
            discount = 0
            if coupon is not None and gross > 0 and (coupon[2] == 0 or period <= coupon[2]):
                discount = gross * coupon[1] // 10000
            net = gross - discount
            tax = _tax(net, tax_bp)

            inv = self._new_invoice(ps)
            line = self._line(
                {
                    "invoice_external_id": inv,
                    "external_id": f"{inv}-1",
                    "type": "subscription",
                    "subscription_external_id": sub,
                    "plan_external_id": plan,
                    "service_period_start": self._ts(ps),
                    "service_period_end": self._ts(pe),
                    "amount_in_cents": net + tax,
                    "quantity": qty,
                }
            )
            if discount:
                line["discount_amount_in_cents"] = discount
                line["discount_code"] = coupon[0]  # type: ignore[index]
            if tax:
                line["tax_amount_in_cents"] = tax
            total = net + tax
            n_line = 1
            if setup_fee and period == 1:
                n_line += 1
                total += self._one_time(inv, n_line, 9900, "Setup fee")
            elif gross > 0 and rng.random() < 0.01:
                n_line += 1
                total += self._one_time(inv, n_line, rng.choice((15000, 25000, 50000)), "Onboarding workshop")
            hard_fail = self._pay(inv, ps, total, may_fail_hard=months == 1 and gross > 0)

            # ---- cancellation in or at the end of this period ----
            cancel: int | None = None
            if forced_cancel is not None and forced_cancel < pe:
                cancel = forced_cancel
            elif hard_fail and ps + 10 < min(pe, end):
                cancel = ps + 10
            elif rng.random() < CHURN_P[plan]:
                cancel = ps + rng.randint(1, pe - ps - 1) if rng.random() < 0.3 else pe
            if cancel is not None and cancel < end:
                if rng.random() < 0.4:
                    self._cancel_request(sub, cancel)
                else:
                    line["cancelled_at"] = self._ts(cancel)
                return cancel

            # ---- mid-cycle change: a prorated line for the rest of the period ----
            span = pe - ps
            if allow_changes and months == 1 and span >= 20 and gross > 0:
                r = rng.random()
                if plan in ("starter_monthly", "pro_monthly") and r < 0.025:
                    new = "pro_monthly" if plan == "starter_monthly" else "business_monthly"
                    self._prorate(sub, ps, pe, plan, new, qty, net, with_credit=rng.random() < 0.75)
                    plan = new
                elif plan == "team_monthly" and r < 0.10:
                    added = rng.randint(1, 3)
                    self._prorate(sub, ps, pe, plan, plan, added, 0, with_credit=False)
                    qty += added

            # ---- renewal: upgrade, downgrade, seats, interval switch ----
            if allow_changes:
                plan, qty = self._renewal_change(plan, qty)
            ps = pe
            k += months
        return None

    def _prorate(
        self, sub: str, ps: int, pe: int, old: str, new: str, qty: int, old_net: int, with_credit: bool
    ) -> None:
        rng = self.rng
        span = pe - ps
        at = ps + rng.randint(3, span - 3)
        if at >= self.cal.end:
            return
        rest = pe - at
        inv = self._new_invoice(at)
        new_net = (self.prices[new] * qty * rest + span // 2) // span
        tax = _tax(new_net, self.tax_bp)
        line: dict[str, Any] = {
            "invoice_external_id": inv,
            "external_id": f"{inv}-1",
            "type": "subscription",
            "subscription_external_id": sub,
            "plan_external_id": new,
            "service_period_start": self._ts(at),
            "service_period_end": self._ts(pe),
            "amount_in_cents": new_net + tax,
            "quantity": qty,
            "prorated": True,
        }
        if tax:
            line["tax_amount_in_cents"] = tax
        self._line(line)
        total = new_net + tax
        if with_credit:
            credit = -((old_net * rest + span // 2) // span)
            ctax = _tax(credit, self.tax_bp)
            credit_line: dict[str, Any] = {
                "invoice_external_id": inv,
                "external_id": f"{inv}-2",
                "type": "subscription",
                "subscription_external_id": sub,
                "plan_external_id": old,
                "service_period_start": self._ts(at),
                "service_period_end": self._ts(pe),
                "amount_in_cents": credit + ctax,
                "quantity": qty,
                "prorated": True,
                "description": "Credit for unused time",
            }
            if ctax:
                credit_line["tax_amount_in_cents"] = ctax
            self._line(credit_line)
            total += credit + ctax
        self._pay(inv, at, total, may_fail_hard=False)

    def _renewal_change(self, plan: str, qty: int) -> tuple[str, int]:
        r = self.rng.random()
        if plan in MONTHLY_TIERS:
            tier = MONTHLY_TIERS.index(plan)
            if r < 0.03 and tier < 2:
                return MONTHLY_TIERS[tier + 1], qty
            if r < 0.05 and tier > 0:
                return MONTHLY_TIERS[tier - 1], qty
            if r < 0.065 and tier == 0:
                return "free_monthly", 1
            if r < 0.077:
                return ANNUAL_OF[plan], qty
        elif plan == "free_monthly":
            if r < 0.06:
                return "starter_monthly", 1
            if r < 0.09:
                return "pro_monthly", 1
        elif plan == "team_monthly":
            if r < 0.06:
                return plan, qty + self.rng.randint(1, 3)
            if r < 0.14 and qty > 1:
                return plan, max(1, qty - self.rng.randint(1, 2))
        elif plan == "pro_quarterly":
            if r < 0.08:
                return "pro_annual", qty
            if r < 0.13:
                return "pro_monthly", qty
        elif plan in MONTHLY_OF:
            if r < 0.15:
                return MONTHLY_OF[plan], qty
            if r < 0.23 and plan == "pro_annual":
                return "business_annual", qty
        return plan, qty

    # ---- the customer -------------------------------------------------------------------------------------
    def build(self, index: int, rng: Random) -> None:
        self.rng = rng
        cal = self.cal
        self.cid = cid = f"C{index:07d}"
        self.n_invoices = 0

        r = rng.random()
        self.currency = "USD" if r < 0.8 else ("EUR" if r < 0.92 else "GBP")
        self.prices = PRICES[self.currency]
        country, self.tax_bp = rng.choice(COUNTRIES[self.currency])
        self.tod = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"

        # An existing base (already customers when the window opens) starts in its first month.
        k0 = 0 if rng.random() < self.existing_share else rng.randrange(cal.months)
        day0 = rng.randint(1, 28)
        start = cal.month_start[k0] + day0 - 1
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}"
        domain = company.lower().replace(" ", "-")
        customer: dict[str, Any] = {
            "external_id": cid,
            "name": f"{first} {last}",
            "email": f"{first.lower()}.{last.lower().replace(' ', '')}.{index}@{domain}.example",
            "company": company,
            "country": country,
            "city": rng.choice(CITIES[country]),
        }
        self.batch.customers.append(customer)
        self.counts.customers += 1
        if rng.random() < 0.3:
            customer["attributes"] = {
                "tags": [rng.choice(("smb", "mid-market", "enterprise"))],
                "custom": [
                    {"type": "String", "key": "channel", "value": rng.choice(CHANNELS), "source": "generator"}
                ],
            }

        r = rng.random()
        if r < 0.17:  # never pays: a lead, or a trial that did not convert
            customer["lead_created_at"] = self._ts(start)
            if r < 0.05:
                customer["free_trial_started_at"] = self._ts(min(start + rng.randint(0, 5), cal.end - 1))
            return
        if r < 0.42:  # trial, then paid
            trial = max(cal.first, start - 14)
            customer["lead_created_at"] = self._ts(max(cal.first, trial - rng.randint(0, 20)))
            customer["free_trial_started_at"] = self._ts(trial)
        elif r < 0.75:  # a lead first, paid directly
            customer["lead_created_at"] = self._ts(max(cal.first, start - rng.randint(0, 60)))

        r = rng.random()
        plan = _START_NAMES[bisect.bisect_left(_START_CUM, r * _START_CUM[-1])]
        qty = rng.randint(2, 12) if plan == "team_monthly" else 1
        r = rng.random()
        coupon = COUPONS[0] if r < 0.12 else (COUPONS[1] if r < 0.2 else None)
        setup_fee = rng.random() < 0.2 and plan != "free_monthly"
        wants_addon = plan in MONTHLY_TIERS and rng.random() < 0.15

        cancelled = self._subscription(f"{cid}-S1", plan, qty, k0, day0, coupon, setup_fee)

        if wants_addon:
            ka = k0 + rng.randint(1, 10)
            a_start = cal.month_start[min(ka, len(cal.month_start) - 1)] + day0 - 1
            if a_start < cal.end and (cancelled is None or a_start < cancelled):
                self._subscription(
                    f"{cid}-A1",
                    "analytics_addon_monthly",
                    1,
                    ka,
                    day0,
                    None,
                    False,
                    forced_cancel=cancelled,
                    allow_changes=False,
                )

        # ---- reactivations: a churned customer starts a new subscription months later ----
        n_sub = 1
        while cancelled is not None and n_sub < 3 and rng.random() < 0.3:
            kr = cal.month_index(cancelled) + rng.randint(2, 10)
            dr = rng.randint(1, 28)
            if kr >= cal.months or cal.month_start[kr] + dr - 1 >= cal.end:
                break
            n_sub += 1
            plan = rng.choice(
                ("starter_monthly", "pro_monthly", "pro_monthly", "business_monthly", "pro_annual")
            )
            cancelled = self._subscription(f"{cid}-S{n_sub}", plan, 1, kr, dr, None, False)


# ----------------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------------
def plans_request(seed: int) -> dict[str, Any]:
    return {
        "external_id": f"generate-{seed}-plans",
        "plans": [
            {"external_id": pid, "name": name, "interval_count": count, "interval_unit": unit}
            for pid, name, count, unit, _ in PLANS
        ],
    }


def generate(
    out_dir: Path,
    customers: int,
    months: int,
    seed: int,
    start_date: date = DEFAULT_START_DATE,
    invalid_share: float = DEFAULT_INVALID_SHARE,
    existing_share: float = DEFAULT_EXISTING_SHARE,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the request files into `out_dir` and return summary counts.

    Files already in `out_dir` whose names this function writes are overwritten; others are left alone.
    """
    if customers < 0 or months < 1 or chunk_size < 1:
        raise ValueError("customers must be >= 0, months >= 1, chunk_size >= 1")
    if not (0 <= invalid_share <= 1 and 0 <= existing_share <= 1):
        raise ValueError("invalid_share and existing_share must be between 0 and 1")
    n_chunks = max(1, -(-customers // chunk_size))
    if n_chunks > MAX_BULK_FILES:
        raise ValueError(
            f"{n_chunks} bulk files would not sort before {CANCELLATIONS_FILE}: raise chunk_size"
        )

    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cal = Calendar(start_date, months)
    counts = Counts()
    batch = Batch()
    builder = CustomerBuilder(cal, batch, counts, Random(f"invalid:{seed}"), invalid_share, existing_share)
    files: list[str] = []
    total_bytes = 0

    path = out_dir / PLANS_FILE
    path.write_bytes(orjson.dumps(plans_request(seed), option=orjson.OPT_INDENT_2) + b"\n")
    files.append(PLANS_FILE)
    total_bytes += path.stat().st_size

    for stale in (*out_dir.glob("[0-9][0-9][0-9]_bulk.json"), out_dir / CANCELLATIONS_FILE):
        stale.unlink(missing_ok=True)

    cancellations = None  # opened at the first cancellation, so a run without any writes no empty file
    try:
        for chunk in range(n_chunks):
            writer = ChunkWriter()
            lo, hi = chunk * chunk_size, min(customers, (chunk + 1) * chunk_size)
            for i in range(lo, hi):
                builder.build(i + 1, Random((seed << 32) + i) if seed >= 0 else Random(f"{seed}:{i}"))
                if len(batch.line_items) > 20_000 or i == hi - 1:
                    writer.add(batch)
                    if batch.cancellations:
                        if cancellations is None:
                            cancellations = (out_dir / CANCELLATIONS_FILE).open("wb")
                        cancellations.write(b"".join(orjson.dumps(c) + b"\n" for c in batch.cancellations))
                        batch.cancellations.clear()
            name = f"{chunk + 1:03d}_bulk.json"
            total_bytes += writer.write(out_dir / name, f"generate-{seed}-bulk-{chunk + 1:03d}")
            files.append(name)
            if progress is not None:
                progress(
                    f"  {name}: customers {hi:,}/{customers:,}, invoices {counts.invoices:,}, "
                    f"line items {counts.line_items:,} ({time.perf_counter() - started:.1f} s)"
                )
    finally:
        if cancellations is not None:
            total_bytes += cancellations.tell()
            cancellations.close()
    if cancellations is not None:
        files.append(CANCELLATIONS_FILE)

    return {
        "out_dir": str(out_dir),
        "files": files,
        "bytes": total_bytes,
        "start_date": start_date.isoformat(),
        "end_date": cal.last_day.isoformat(),
        "plans": len(PLANS),
        "customers": counts.customers,
        "invoices": counts.invoices,
        "line_items": counts.line_items,
        "transactions": counts.transactions,
        "cancellations": counts.cancellations,
        "invalid_objects": counts.invalid_objects,
        "seconds": round(time.perf_counter() - started, 3),
    }


# ----------------------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------------------
def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate sample Import API request files",
        description="Write deterministic, realistic ChartMogul Import API request files for "
        "`mrr-warehouse load` (plans, bulk customer chunks, cancellation requests).",
    )
    parser.add_argument("--customers", type=int, required=True, help="number of customers")
    parser.add_argument("--months", type=int, required=True, help="length of the window in months")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--start-date",
        type=_date,
        default=DEFAULT_START_DATE,
        help=f"first day of the window (default {DEFAULT_START_DATE.isoformat()})",
    )
    parser.add_argument(
        "--invalid-share",
        type=_share,
        default=DEFAULT_INVALID_SHARE,
        help="share of transactions / one-time lines made invalid on purpose "
        f"(default {DEFAULT_INVALID_SHARE})",
    )
    parser.add_argument(
        "--existing-share",
        type=_share,
        default=DEFAULT_EXISTING_SHARE,
        help="share of customers already starting in the first month, an existing base "
        f"(default {DEFAULT_EXISTING_SHARE}); the others start in a uniformly drawn month",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK_SIZE,
        help=f"customers per bulk file (default {DEFAULT_CHUNK_SIZE:,})",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-file progress")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.customers < 0 or args.months < 1 or args.chunk_size < 1:
        print("generate: --customers must be >= 0, --months >= 1, --chunk-size >= 1", file=sys.stderr)
        return 2

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        summary = generate(
            args.out,
            customers=args.customers,
            months=args.months,
            seed=args.seed,
            start_date=args.start_date,
            invalid_share=args.invalid_share,
            existing_share=args.existing_share,
            chunk_size=args.chunk_size,
            progress=None if args.quiet else progress,
        )
    except ValueError as exc:
        print(f"generate: {exc}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    return 0


def format_summary(summary: dict[str, Any]) -> str:
    return (
        f"generated {len(summary['files'])} files ({summary['bytes'] / 1e6:,.1f} MB) in {summary['out_dir']} "
        f"for {summary['start_date']} .. {summary['end_date']}: "
        f"{summary['customers']:,} customers, {summary['invoices']:,} invoices, "
        f"{summary['line_items']:,} line items, {summary['transactions']:,} transactions, "
        f"{summary['cancellations']:,} cancellation requests, "
        f"{summary['invalid_objects']:,} invalid objects on purpose; {summary['seconds']:.1f} s"
    )
