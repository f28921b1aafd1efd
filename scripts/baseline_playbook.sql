-- Baseline for `scripts/bench.py`: the dbt Labs mrr-playbook approach, run on our own normalised line items.
--
-- The playbook (github.com/dbt-labs/mrr-playbook: customer_revenue_by_month.sql, customer_churn_month.sql,
-- mrr.sql) builds a customer x month spine, left-joins it to the subscription periods that cover each month,
-- sums the month's revenue, and classifies every month with lag() over the customer's months. This file does
-- the same on intermediate.int_line_items_normalized, which the dbt build has already made:
--   * lines: subscription lines, except differential prorations (is_mrr_addition), which the playbook has no
--     notion of; a cancelled line stops counting from its cancelled_at.
--   * spine: every month from the first month of any line to the as-of month (SQL variable `as_of_date`, set by
--     bench.py; else the month of the latest service period start), for every customer from its first month.
--   * a line counts for the months whose first day falls in [service_period_start_at, service_period_end_at)
--     (the playbook's `date_month >= start_date and date_month < end_date`), joined on the customer as in
--     the playbook's `joined` CTE.
--   * change_category follows the playbook's mrr.sql: new / churn / reactivation / expansion / contraction.
-- No exchange rates, no good faith, no smart grouping: this is the pattern users copy, timed on the same data.
-- Writes bench.baseline_mrr (customer x month) and bench.baseline_mrr_monthly (one row per month).

create schema if not exists bench;

create or replace table bench.baseline_mrr as
with

lines as (
    select
        data_source_uuid,
        customer_external_id,
        service_period_start_at,
        service_period_end_at,
        cancelled_at,
        line_mrr_in_cents
    from intermediate.int_line_items_normalized
    where not is_mrr_addition
),

bounds as (
    select
        cast(date_trunc('month', min(service_period_start_at)) as date) as first_month,
        cast(
            date_trunc('month', coalesce(getvariable('as_of_date'), max(service_period_start_at))) as date
        ) as last_month
    from lines
),

months as (
    select cast(generate_series as date) as date_month
    from bounds, generate_series(first_month, last_month, interval 1 month)
),

customers as (
    select
        data_source_uuid,
        customer_external_id,
        cast(date_trunc('month', min(service_period_start_at)) as date) as first_month
    from lines
    group by data_source_uuid, customer_external_id
),

customer_months as (
    select
        customers.data_source_uuid,
        customers.customer_external_id,
        months.date_month
    from customers
    inner join months
        on months.date_month >= customers.first_month
),

joined as (
    select
        customer_months.data_source_uuid,
        customer_months.customer_external_id,
        customer_months.date_month,
        coalesce(sum(lines.line_mrr_in_cents), 0) as mrr
    from customer_months
    left join lines
        on
            customer_months.data_source_uuid = lines.data_source_uuid
            and customer_months.customer_external_id = lines.customer_external_id
            and customer_months.date_month >= lines.service_period_start_at
            and customer_months.date_month < lines.service_period_end_at
            and (lines.cancelled_at is null or customer_months.date_month < lines.cancelled_at)
    group by customer_months.data_source_uuid, customer_months.customer_external_id, customer_months.date_month
),

with_history as (
    select
        *,
        mrr > 0 as is_active,
        min(case when mrr > 0 then date_month end) over customer_all as first_active_month,
        coalesce(lag(mrr > 0) over customer_history, false) as previous_month_is_active,
        coalesce(lag(mrr) over customer_history, 0) as previous_month_mrr
    from joined
    window
        customer_all as (partition by data_source_uuid, customer_external_id),
        customer_history as (partition by data_source_uuid, customer_external_id order by date_month)
)

select
    data_source_uuid,
    customer_external_id,
    date_month,
    mrr,
    previous_month_mrr,
    mrr - previous_month_mrr as mrr_change,
    is_active,
    case
        when date_month = first_active_month then 'new'
        when not is_active and previous_month_is_active then 'churn'
        when is_active and not previous_month_is_active then 'reactivation'
        when mrr - previous_month_mrr > 0 then 'expansion'
        when mrr - previous_month_mrr < 0 then 'contraction'
    end as change_category
from with_history;

create or replace table bench.baseline_mrr_monthly as
select
    date_month,
    sum(mrr) as mrr,
    count(*) filter (where is_active) as customers,
    sum(mrr_change) filter (where change_category = 'new') as mrr_new,
    sum(mrr_change) filter (where change_category = 'expansion') as mrr_expansion,
    sum(mrr_change) filter (where change_category = 'contraction') as mrr_contraction,
    sum(mrr_change) filter (where change_category = 'churn') as mrr_churn,
    sum(mrr_change) filter (where change_category = 'reactivation') as mrr_reactivation
from bench.baseline_mrr
group by date_month
order by date_month;
