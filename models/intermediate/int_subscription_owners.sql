{#- Grain: one row per subscription (data source, subscription_external_id). The customer it belongs to and its
    currency: those of its latest invoice line, or for a subscription known only from events (with
    subscription_events_drive_mrr), of its latest event (D8). -#}
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

owner_candidates as (
    select
        data_source_uuid,
        subscription_external_id,
        customer_external_id,
        currency,
        service_period_start_at as started_at,
        object_seq,
        0 as source_rank
    from line_items

    union all

    select
        data_source_uuid,
        subscription_external_id,
        customer_external_id,
        currency,
        effective_at as started_at,
        object_seq,
        1 as source_rank
    from subscription_events
),

ranked as (
    select
        *,
        row_number() over (
            partition by data_source_uuid, subscription_external_id
            order by source_rank asc, started_at desc, object_seq desc
        ) as owner_rank
    from owner_candidates
),

final as (
    select
        data_source_uuid,
        subscription_external_id,
        customer_external_id,
        currency,
        -- The timeline's window functions sort by this integer instead of two strings; it is a function of the
        -- subscription, so rows built in different (incremental) builds agree on it.
        {{ stable_key(['data_source_uuid', 'subscription_external_id']) }} as subscription_key
    from ranked
    where owner_rank = 1
)

select * from final
