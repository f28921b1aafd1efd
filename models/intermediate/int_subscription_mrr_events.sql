{#- Grain: one row per subscription event that sets a subscription's MRR: start and update events with an MRR,
    and only with subscription_events_drive_mrr (SPEC 3.3); empty otherwise. A view: a filter is not worth a copy. -#}
{{ config(materialized="view") }}

with

subscription_events as (
    select * from {{ ref('int_subscription_events_normalized') }}
),

final as (
    select
        data_source_uuid,
        subscription_event_external_id,
        customer_external_id,
        subscription_external_id,
        event_type,
        effective_at,
        currency,
        event_mrr_in_cents,
        load_id,
        object_seq
    from subscription_events
    where
        {{ 'true' if project_var('subscription_events_drive_mrr') else 'false' }}
        and event_type in ('subscription_start', 'subscription_updated')
        and event_mrr_in_cents is not null
)

select * from final
