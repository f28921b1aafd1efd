"""The SQL behind `mrr-warehouse report`, run read-only against the published snapshot (or any warehouse file).

The "all sources" view reads the marts as they are (`metrics_monthly`, `cohorts_monthly`). A data source's view
recomputes the same series from the rows of that source: `metrics_monthly` has no data-source column, while
`customer_mrr_monthly`, `transactions` and `mrr_movements` do (D35). The per-source queries repeat the marts'
definitions (models/marts/metrics_monthly.sql, cohorts_monthly.sql); tests/python/test_report.py checks that, on a
single-source warehouse, they give exactly the marts' numbers.
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

# metrics_monthly for the rows of one data source ($source), over the months of metrics_monthly.
SOURCE_METRICS = f"""
with
customer_months as (
    select * from main.customer_mrr_monthly where data_source_uuid = $source
),
transactions as (
    select * from main.transactions where data_source_uuid = $source
),
monthly_mrr as (
    select
        month,
        sum(starting_mrr_in_cents) as starting_mrr,
        sum(ending_mrr_in_cents) as mrr,
        {", ".join(f"sum(mrr_{kind}_in_cents) as mrr_{kind}" for kind in MOVEMENT_TYPES)},
        sum(fx_adjustment_in_cents) as fx_adjustment,
        count(distinct case when ending_mrr_in_cents > 0 then customer_uuid end) as customers,
        count(distinct case when has_new_business then customer_uuid end) as new_customers,
        count(distinct case when has_churn then customer_uuid end) as churned_customers,
        count(distinct case when has_reactivation then customer_uuid end) as reactivated_customers,
        count(distinct case
            when has_churn and not has_new_business and not has_reactivation then customer_uuid
        end) as net_churned_customers
    from customer_months
    group by month
),
monthly_cash as (
    select
        transaction_month as month,
        sum(case when transaction_type = 'payment' and transaction_result = 'successful'
            then amount_in_cents else 0 end) as gross_cash_flow,
        sum(case when transaction_type = 'refund' and transaction_result = 'successful'
            then amount_in_cents else 0 end) as refunds,
        sum(case when transaction_type = 'payment' and transaction_result = 'successful'
            then non_recurring_amount_in_cents else 0 end) as non_recurring_cash_flow
    from transactions
    group by transaction_month
),
monthly as (
    select
        months.month,
        coalesce(monthly_mrr.starting_mrr, 0) as starting_mrr,
        coalesce(monthly_mrr.mrr, 0) as mrr,
        coalesce(monthly_mrr.customers, 0) as customers,
        coalesce(lag(monthly_mrr.customers) over (order by months.month), 0) as starting_customers,
        coalesce(monthly_mrr.new_customers, 0) as new_customers,
        coalesce(monthly_mrr.churned_customers, 0) as churned_customers,
        coalesce(monthly_mrr.reactivated_customers, 0) as reactivated_customers,
        coalesce(monthly_mrr.net_churned_customers, 0) as net_churned_customers,
        {", ".join(f"coalesce(monthly_mrr.mrr_{kind}, 0) as mrr_{kind}" for kind in MOVEMENT_TYPES)},
        coalesce(monthly_mrr.fx_adjustment, 0) as fx_adjustment,
        coalesce(monthly_cash.gross_cash_flow, 0) as gross_cash_flow,
        coalesce(monthly_cash.refunds, 0) as refunds,
        coalesce(monthly_cash.non_recurring_cash_flow, 0) as non_recurring_cash_flow
    from main.metrics_monthly as months
    left join monthly_mrr on months.month = monthly_mrr.month
    left join monthly_cash on months.month = monthly_cash.month
),
rates as (
    select
        *,
        case when starting_customers > 0 then 100.0 * net_churned_customers / starting_customers end
            as customer_churn_rate,
        case when starting_mrr > 0
            then 100.0 * (-mrr_churn - mrr_contraction - mrr_expansion - mrr_reactivation) / starting_mrr
        end as mrr_churn_rate,
        case when starting_mrr > 0 then 100.0 * (-mrr_churn - mrr_contraction) / starting_mrr end
            as gross_mrr_churn_rate
    from monthly
)
select
    month,
    mrr,
    mrr * 12 as arr,
    customers,
    case when customers > 0 then mrr / customers end as arpa,
    case when new_customers > 0 then mrr_new_business / new_customers end as asp,
    {", ".join(f"mrr_{kind}" for kind in MOVEMENT_TYPES)},
    fx_adjustment,
    new_customers,
    churned_customers,
    reactivated_customers,
    customer_churn_rate,
    mrr_churn_rate,
    gross_mrr_churn_rate,
    case when customers > 0 then mrr / customers end
    / nullif(avg(customer_churn_rate) over (
        order by month rows between 6 preceding and 1 preceding
    ) / 100.0, 0) as ltv,
    gross_cash_flow,
    refunds,
    gross_cash_flow - refunds as net_cash_flow,
    non_recurring_cash_flow
from rates
order by month
"""

# cohorts_monthly for the customers of one data source ($source).
SOURCE_COHORTS = """
with
customer_months as (
    select * from main.customer_mrr_monthly where data_source_uuid = $source
),
members_at_start as (
    select customer_uuid, month as cohort_month, ending_mrr_in_cents as mrr_at_start_in_cents
    from customer_months
    qualify month = min(month) over (partition by customer_uuid)
),
cohorts as (
    select cohort_month, count(*) as customers_at_start, sum(mrr_at_start_in_cents) as mrr_at_start_in_cents
    from members_at_start
    group by cohort_month
),
retained as (
    select
        members_at_start.cohort_month,
        customer_months.month,
        count(case when customer_months.ending_mrr_in_cents > 0 then 1 end) as customers_retained,
        sum(customer_months.ending_mrr_in_cents) as net_mrr_retained_in_cents,
        sum(least(customer_months.ending_mrr_in_cents, members_at_start.mrr_at_start_in_cents))
            as gross_mrr_retained_in_cents
    from members_at_start
    inner join customer_months on members_at_start.customer_uuid = customer_months.customer_uuid
    group by members_at_start.cohort_month, customer_months.month
)
select
    retained.cohort_month,
    cast(
        12 * (extract(year from retained.month) - extract(year from retained.cohort_month))
        + extract(month from retained.month) - extract(month from retained.cohort_month)
        as integer
    ) as month_number,
    cohorts.customers_at_start,
    retained.customers_retained,
    cohorts.mrr_at_start_in_cents,
    retained.net_mrr_retained_in_cents,
    100.0 * retained.customers_retained / cohorts.customers_at_start as customer_retention_rate,
    case when cohorts.mrr_at_start_in_cents > 0
        then 100.0 * retained.net_mrr_retained_in_cents / cohorts.mrr_at_start_in_cents end
        as net_mrr_retention_rate,
    case when cohorts.mrr_at_start_in_cents > 0
        then 100.0 * retained.gross_mrr_retained_in_cents / cohorts.mrr_at_start_in_cents end
        as gross_mrr_retention_rate
from retained
inner join cohorts on retained.cohort_month = cohorts.cohort_month
order by retained.cohort_month, month_number
"""

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
