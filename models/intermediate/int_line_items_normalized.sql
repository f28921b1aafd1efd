{#- Grain: one row per subscription line item (data source, line_item_key), with the MRR it stands for: its amount
    less tax (and fees with deduct_transaction_fees), per month of its plan's interval, a prorated line scaled up
    to the full interval (SPEC 3.1, 3.2). Incremental by the invoice's customer (D47). -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_build_scope('customer') }}",
) }}
-- depends_on: {{ ref('int_build_scope') }}

with

line_items as (
    select * from {{ ref('stg_line_items') }}
),

invoices as (
    select * from {{ ref('stg_invoices') }}
),

plans as (
    select * from {{ ref('stg_plans') }}
),

subscription_lines as (
    select
        line_items.data_source_uuid,
        line_items.line_item_key,
        line_items.line_item_external_id,
        line_items.invoice_external_id,
        invoices.customer_external_id,
        invoices.currency,
        invoices.invoiced_at,
        line_items.subscription_external_id,
        line_items.plan_external_id,
        plans.interval_count,
        plans.interval_unit,
        line_items.service_period_start_at,
        line_items.service_period_end_at,
        line_items.amount_in_cents,
        line_items.tax_amount_in_cents,
        line_items.discount_amount_in_cents,
        line_items.transaction_fees_in_cents,
        line_items.quantity,
        line_items.is_prorated,
        line_items.proration_type,
        line_items.cancelled_at,
        line_items.event_order,
        line_items.load_id,
        line_items.object_seq,
        -- The discount is already taken off amount_in_cents; it is reported, never subtracted again (SPEC 3.1).
        line_items.amount_in_cents
        - line_items.tax_amount_in_cents
        {% if project_var('deduct_transaction_fees') %}- line_items.transaction_fees_in_cents{% endif %}
            as recurring_amount_in_cents
    from line_items
    inner join invoices
        on
            line_items.data_source_uuid = invoices.data_source_uuid
            and line_items.invoice_external_id = invoices.invoice_external_id
    inner join plans
        on
            line_items.data_source_uuid = plans.data_source_uuid
            and line_items.plan_external_id = plans.plan_external_id
    where
        line_items.line_item_type = 'subscription'
        and {{ in_build_scope('customer', 'invoices.data_source_uuid', 'invoices.customer_external_id') }}
),

plan_intervals as (
    select
        *,
        {{ months_in_plan_interval('interval_unit', 'interval_count') }} as months_in_plan_interval,
        {{ plan_interval_start('interval_unit', 'interval_count', 'service_period_end_at') }}
            as plan_interval_start_at
    from subscription_lines
),

periods as (
    select
        *,
        {{ seconds_between('service_period_start_at', 'service_period_end_at') }} as service_period_seconds,
        {{ seconds_between('plan_interval_start_at', 'service_period_end_at') }} as plan_interval_seconds
    from plan_intervals
),

final as (
    select
        *,
        -- A prorated line covers part of a plan interval: scale it up to the full interval that ends at its
        -- service_period_end (SPEC 3.2). The plan's interval normalises, not the service period's length.
        cast(
            recurring_amount_in_cents / months_in_plan_interval
            * case
                when is_prorated then cast(plan_interval_seconds as double) / service_period_seconds
                else 1
            end
            as {{ type_mrr() }}
        ) as line_mrr_in_cents,
        -- A full proration replaces the subscription's MRR like a regular line; a differential one adds to it.
        is_prorated and proration_type = 'differential' as is_mrr_addition
    from periods
)

select * from final
