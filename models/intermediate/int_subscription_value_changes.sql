{#- Grain: one row per subscription, instant and kind of value change: a `reset` sets the subscription's MRR (its
    regular lines starting at that instant, summed, or before its first line, its MRR events), an `addition`
    adds to it (differential prorations, SPEC 3.2). Cancellations and auto-churn are not here (D5, D7). -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_build_scope('subscription') }}",
) }}
-- depends_on: {{ ref('int_build_scope') }}

with

line_items as (
    {{ select_in_build_scope('int_line_items_normalized', 'subscription') }}
),

subscription_events as (
    {{ select_in_build_scope('int_subscription_mrr_events', 'subscription') }}
),

first_line_starts as (
    select
        data_source_uuid,
        subscription_external_id,
        min(service_period_start_at) as first_line_start_at
    from line_items
    group by data_source_uuid, subscription_external_id
),

-- With subscription_events_drive_mrr, start/update events set the MRR until the subscription's first invoice
-- line takes over (SPEC 3.3).
event_resets as (
    select
        subscription_events.data_source_uuid,
        subscription_events.subscription_external_id,
        subscription_events.effective_at as changed_at,
        'reset' as change_kind,
        'subscription_event' as cause_type,
        cast(null as {{ dbt.type_timestamp() }}) as service_period_end_at,
        sum(subscription_events.event_mrr_in_cents) as mrr_in_cents,
        cast(null as bigint) as event_order,
        cast(null as {{ dbt.type_string() }}) as cause_invoice_external_id,
        min(subscription_events.subscription_event_external_id) as cause_object_key,
        max(subscription_events.load_id) as load_id
    from subscription_events
    left join first_line_starts
        on
            subscription_events.data_source_uuid = first_line_starts.data_source_uuid
            and subscription_events.subscription_external_id = first_line_starts.subscription_external_id
    where
        first_line_starts.first_line_start_at is null
        or subscription_events.effective_at < first_line_starts.first_line_start_at
    group by
        subscription_events.data_source_uuid,
        subscription_events.subscription_external_id,
        subscription_events.effective_at
),

-- Lines of one subscription sharing a service_period_start are summed (SPEC 3.3, D5).
line_changes as (
    select
        data_source_uuid,
        subscription_external_id,
        service_period_start_at as changed_at,
        case when is_mrr_addition then 'addition' else 'reset' end as change_kind,
        'line_item' as cause_type,
        max(service_period_end_at) as service_period_end_at,
        sum(line_mrr_in_cents) as mrr_in_cents,
        min(event_order) as event_order,
        min(invoice_external_id) as cause_invoice_external_id,
        min(coalesce(line_item_external_id, line_item_key)) as cause_object_key,
        max(load_id) as load_id
    from line_items
    group by data_source_uuid, subscription_external_id, service_period_start_at, is_mrr_addition
),

final as (
    select * from line_changes
    union all
    select * from event_resets
)

select * from final
