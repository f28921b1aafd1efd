"""The SQL behind `mrr-warehouse report`, run read-only against the published snapshot (or any warehouse file).

The "all sources" view reads `metrics_monthly` and `cohorts_monthly`; a data source's view reads the rows of that
source in `metrics_monthly_by_source` and `cohorts_monthly_by_source`, which the same macros build (D35). No
metric is defined here.
"""

from __future__ import annotations

# the order and names of macros/movement_types.sql (tests/python/test_movement_types.py)
MOVEMENT_TYPES = ("new_business", "expansion", "contraction", "churn", "reactivation")

METRIC_COLUMNS = (
    "month",
    "mrr",
    "arr",
    "customers",
    "arpa",
    "asp",
    *(f"mrr_{kind}" for kind in MOVEMENT_TYPES),
    "fx_adjustment",
    "new_customers",
    "churned_customers",
    "reactivated_customers",
    "customer_churn_rate",
    "mrr_churn_rate",
    "gross_mrr_churn_rate",
    "ltv",
    "gross_cash_flow",
    "refunds",
    "net_cash_flow",
    "non_recurring_cash_flow",
)

COHORT_COLUMNS = (
    "cohort_month",
    "month_number",
    "customers_at_start",
    "customers_retained",
    "mrr_at_start_in_cents",
    "net_mrr_retained_in_cents",
    "customer_retention_rate",
    "net_mrr_retention_rate",
    "gross_mrr_retention_rate",
)

MOVEMENT_COLUMNS = (
    "movement_at",
    "movement_type",
    "mrr_change_in_cents",
    "customer_external_id",
    "customer_name",
    "subscription_external_id",
    "cause_type",
    "cause_invoice_external_id",
    "data_source_uuid",
)

ALL_METRICS = f"select {', '.join(METRIC_COLUMNS)} from main.metrics_monthly order by month"

ALL_COHORTS = (
    f"select {', '.join(COHORT_COLUMNS)} from main.cohorts_monthly order by cohort_month, month_number"
)

# One data source's series ($source): the by-source marts, built by the same macros as the totals.
SOURCE_METRICS = (
    f"select {', '.join(METRIC_COLUMNS)} from main.metrics_monthly_by_source"
    " where data_source_uuid = $source order by month"
)

SOURCE_COHORTS = (
    f"select {', '.join(COHORT_COLUMNS)} from main.cohorts_monthly_by_source"
    " where data_source_uuid = $source order by cohort_month, month_number"
)

# The largest movements of the last month ($source null: every source), with their causes.
LARGEST_MOVEMENTS = """
select
    movements.movement_at,
    movements.movement_type,
    movements.mrr_change_in_cents,
    movements.customer_external_id,
    customers.customer_name,
    movements.subscription_external_id,
    movements.cause_type,
    movements.cause_invoice_external_id,
    movements.data_source_uuid
from main.mrr_movements as movements
left join main.customers as customers on movements.customer_uuid = customers.customer_uuid
where
    movements.movement_month = (select max(month) from main.metrics_monthly)
    and (cast($source as varchar) is null or movements.data_source_uuid = $source)
order by abs(movements.mrr_change_in_cents) desc, movements.movement_at, movements.movement_id
limit $limit
"""

SOURCES = "select distinct data_source_uuid from main.customer_mrr_monthly order by data_source_uuid"
