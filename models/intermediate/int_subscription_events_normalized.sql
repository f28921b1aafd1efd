{#- Subscription events that carry or change MRR, normalised by their plan's interval like a line item: the
    immediate subscription_start / subscription_updated (which set MRR when var subscription_events_drive_mrr is
    on) and the scheduled ones that feed committed MRR (SPEC 3.3). Events retracted by a `*_retracted` event are
    dropped. -#}

with

events as (
    select * from {{ ref('stg_subscription_events') }}
),

plans as (
    select * from {{ ref('stg_plans') }}
),

retracted as (
    select distinct
        data_source_uuid,
        retracted_event_id
    from events
    where event_type like '%_retracted' and retracted_event_id is not null
),

final as (
    select
        events.data_source_uuid,
        events.subscription_event_external_id,
        events.customer_external_id,
        events.subscription_external_id,
        events.plan_external_id,
        events.event_type,
        events.event_at,
        events.effective_at,
        events.currency,
        events.load_id,
        events.object_seq,
        cast(
            (events.amount_in_cents - events.tax_amount_in_cents)
            / {{ months_in_plan_interval('plans.interval_unit', 'plans.interval_count') }}
            as {{ type_mrr() }}
        ) as event_mrr_in_cents
    from events
    left join plans
        on
            events.data_source_uuid = plans.data_source_uuid
            and events.plan_external_id = plans.plan_external_id
    left join retracted
        on
            events.data_source_uuid = retracted.data_source_uuid
            and events.subscription_event_external_id = retracted.retracted_event_id
    where
        events.event_type in (
            'subscription_start',
            'subscription_updated',
            'subscription_start_scheduled',
            'subscription_update_scheduled',
            'subscription_cancellation_scheduled'
        )
        and events.subscription_external_id is not null
        and retracted.retracted_event_id is null
)

select * from final
