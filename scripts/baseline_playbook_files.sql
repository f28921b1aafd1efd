-- Baseline for `scripts/bench.py`: the dbt Labs mrr-playbook approach written straight against the request
-- files the loader reads, JSON parsing included. Issue #14 compares load + `dbt run` with this: what someone
-- who skipped the warehouse would pay to get customer x month MRR from the same files.
--
-- It computes what scripts/baseline_playbook.sql computes from intermediate.int_line_items_normalized, so that
-- the two give the same monthly totals (bench.py checks), but from raw JSON:
--   * requests: every `*.json` request file in the data directory (SQL variables `request_files`, a glob or a
--     list, and `maximum_object_size`, set by bench.py), each one JSON document; only the arrays the playbook needs are declared, so the
--     reader parses customers and transactions but keeps nothing of them. Plans may come in any request, so
--     they are read from the same scan. The cancellation requests (`*.ndjson`) are not read: the in-warehouse
--     baseline also stops a line only at the line's own cancelled_at.
--   * lines: the subscription line items joined to their invoice (for the customer) and to their plan (for the
--     interval), as int_line_items_normalized joins them. MRR = (amount - tax) / months in the plan interval
--     (a day plan's count / days_per_month, 30.416666666666668 as dbt_project.yml), a full proration scaled
--     up to the plan interval ending at its service_period_end; differential prorations (proration_type absent
--     or 'differential') are left out, as the in-warehouse baseline leaves out is_mrr_addition. Cast to
--     decimal(38, 8) as the model does, so sums match to the last digit.
--   * spine, joined, with_history and the change categories: as scripts/baseline_playbook.sql.
-- The loader's checks (rejected objects, duplicates across requests, later versions of an object) are not
-- redone: the generator never makes a subscription line, invoice or plan invalid and never repeats one.
-- Writes bench.baseline_files_mrr (customer x month) and bench.baseline_files_mrr_monthly (one row per month).

create schema if not exists bench;

create or replace table bench.baseline_files_mrr as
with

-- One row per request file. Materialised: plans, invoices and line items all come from this single parse.
requests as materialized (
    select
        plans,
        invoices,
        line_items
    from read_json(
        getvariable('request_files'),
        format = 'unstructured',
        -- Each file is one request object whose keys are the columns. Said explicitly because auto-detection
        -- is slow for a read that declares one column only (line_items alone over two 65 MB files: 7 s of
        -- CPU, against 0.4 s with records = true or with a second column declared).
        records = true,
        -- A bulk request is one JSON document of some 65 MB, over the default limit of 16 MB. bench.py sets the
        -- largest file's size, not a generous constant: the reader allocates buffers of twice this size per
        -- thread (1 GiB ran out of an 8 GB memory limit).
        maximum_object_size = getvariable('maximum_object_size'),
        columns = {
            plans: 'struct(external_id varchar, interval_count integer, interval_unit varchar)[]',
            invoices: 'struct(external_id varchar, customer_external_id varchar)[]',
            line_items: 'struct(
                invoice_external_id varchar,
                type varchar,
                plan_external_id varchar,
                service_period_start timestamp,
                service_period_end timestamp,
                amount_in_cents bigint,
                tax_amount_in_cents bigint,
                prorated boolean,
                proration_type varchar,
                cancelled_at timestamp
            )[]'
        }
    )
),

plans as (
    select unnest(plans, recursive := true)
    from requests
    where plans is not null
),

invoices as (
    select unnest(invoices, recursive := true)
    from requests
    where invoices is not null
),

line_items as (
    select unnest(line_items, recursive := true)
    from requests
    where line_items is not null
),

normalized as (
    select
        invoices.customer_external_id,
        line_items.service_period_start as service_period_start_at,
        line_items.service_period_end as service_period_end_at,
        line_items.cancelled_at,
        (line_items.amount_in_cents - coalesce(line_items.tax_amount_in_cents, 0))
        / case plans.interval_unit
            when 'month' then cast(plans.interval_count as double)
            when 'year' then 12.0 * plans.interval_count
            when 'day' then plans.interval_count / cast(30.416666666666668 as double)
        end as recurring_mrr,
        case
            when coalesce(line_items.prorated, false)
                then
                    (
                        epoch(line_items.service_period_end)
                        - epoch(
                            case plans.interval_unit
                                when 'month' then line_items.service_period_end - to_months(plans.interval_count)
                                when 'year' then line_items.service_period_end - to_years(plans.interval_count)
                                when 'day' then line_items.service_period_end - to_days(plans.interval_count)
                            end
                        )
                    )
                    / (epoch(line_items.service_period_end) - epoch(line_items.service_period_start))
            else 1
        end as proration_scale
    from line_items
    inner join invoices
        on line_items.invoice_external_id = invoices.external_id
    inner join plans
        on line_items.plan_external_id = plans.external_id
    where
        line_items.type = 'subscription'
        and not (
            coalesce(line_items.prorated, false)
            and coalesce(line_items.proration_type, 'differential') = 'differential'
        )
),

lines as (
    select
        customer_external_id,
        service_period_start_at,
        service_period_end_at,
        cancelled_at,
        cast(recurring_mrr * proration_scale as decimal(38, 8)) as line_mrr_in_cents
    from normalized
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
        customer_external_id,
        cast(date_trunc('month', min(service_period_start_at)) as date) as first_month
    from lines
    group by customer_external_id
),

customer_months as (
    select
        customers.customer_external_id,
        months.date_month
    from customers
    inner join months
        on months.date_month >= customers.first_month
),

joined as (
    select
        customer_months.customer_external_id,
        customer_months.date_month,
        coalesce(sum(lines.line_mrr_in_cents), 0) as mrr
    from customer_months
    left join lines
        on
            customer_months.customer_external_id = lines.customer_external_id
            and customer_months.date_month >= lines.service_period_start_at
            and customer_months.date_month < lines.service_period_end_at
            and (lines.cancelled_at is null or customer_months.date_month < lines.cancelled_at)
    group by customer_months.customer_external_id, customer_months.date_month
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
        customer_all as (partition by customer_external_id),
        customer_history as (partition by customer_external_id order by date_month)
)

select
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

create or replace table bench.baseline_files_mrr_monthly as
select
    date_month,
    sum(mrr) as mrr,
    count(*) filter (where is_active) as customers,
    sum(mrr_change) filter (where change_category = 'new') as mrr_new,
    sum(mrr_change) filter (where change_category = 'expansion') as mrr_expansion,
    sum(mrr_change) filter (where change_category = 'contraction') as mrr_contraction,
    sum(mrr_change) filter (where change_category = 'churn') as mrr_churn,
    sum(mrr_change) filter (where change_category = 'reactivation') as mrr_reactivation
from bench.baseline_files_mrr
group by date_month
order by date_month;
