{#- Grain: one row per subscription (data source, subscription_external_id). The customer it belongs to and its
    currency: those of its latest invoice line, or for a subscription known only from events (with
    subscription_events_drive_mrr), of its latest event (D8). -#}

with

line_items as (
    select * from {{ ref('int_line_items_normalized') }}
),

subscription_events as (
    select * from {{ ref('int_subscription_mrr_events') }}
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
        -- The timeline's window functions sort by this integer instead of two strings.
        {{ row_key() }} as subscription_key
    from ranked
    where owner_rank = 1
)

select * from final
