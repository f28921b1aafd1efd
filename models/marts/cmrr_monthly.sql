{#- Committed MRR (SPEC 3.3): MRR at the end of each month plus the scheduled changes known by then that take
    effect after it. Per subscription the latest scheduled event known at month end counts: a scheduled start adds
    its MRR, a scheduled update replaces the subscription's MRR, a scheduled cancellation removes it. -#}

with

metrics as (
    select * from {{ ref('metrics_monthly') }}
),

events as (
    select * from {{ ref('int_subscription_events_normalized') }}
),

subscription_changes as (
    select * from {{ ref('int_subscription_mrr_changes') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates_daily') }}
),

month_ends as (
    select
        month,
        mrr,
        -- what is known at the end of the month, and never after the as-of date
        least(
            cast({{ dbt.dateadd('month', 1, 'month') }} as {{ dbt.type_timestamp() }}),
            {{ reporting_cutoff_at() }}
        ) as known_at
    from metrics
),

pending_events as (
    select
        events.*,
        month_ends.month,
        month_ends.known_at,
        row_number() over (
            partition by month_ends.month, events.data_source_uuid, events.subscription_external_id
            order by events.event_at desc, events.object_seq desc
        ) as recency_rank
    from month_ends
    inner join events
        on
            month_ends.known_at > events.event_at
            and month_ends.known_at <= events.effective_at
    where events.event_type like '%_scheduled'
),

mrr_at_month_end as (
    select
        pending_events.month,
        pending_events.data_source_uuid,
        pending_events.subscription_external_id,
        max(subscription_changes.changed_at) as last_changed_at
    from pending_events
    inner join subscription_changes
        on
            pending_events.data_source_uuid = subscription_changes.data_source_uuid
            and pending_events.subscription_external_id = subscription_changes.subscription_external_id
            and pending_events.known_at > subscription_changes.changed_at
    where pending_events.recency_rank = 1
    group by pending_events.month, pending_events.data_source_uuid, pending_events.subscription_external_id
),

scheduled_changes as (
    select
        pending_events.month,
        case
            when pending_events.event_type = 'subscription_start_scheduled'
                then pending_events.event_mrr_in_cents * coalesce(exchange_rates.to_reporting_rate, 1.0)
            when pending_events.event_type = 'subscription_update_scheduled'
                then
                    pending_events.event_mrr_in_cents * coalesce(exchange_rates.to_reporting_rate, 1.0)
                    - coalesce(subscription_changes.mrr_after_in_cents, 0)
            else -coalesce(subscription_changes.mrr_after_in_cents, 0)
        end as scheduled_mrr_change_in_cents
    from pending_events
    left join mrr_at_month_end
        on
            pending_events.month = mrr_at_month_end.month
            and pending_events.data_source_uuid = mrr_at_month_end.data_source_uuid
            and pending_events.subscription_external_id = mrr_at_month_end.subscription_external_id
    left join subscription_changes
        on
            mrr_at_month_end.data_source_uuid = subscription_changes.data_source_uuid
            and mrr_at_month_end.subscription_external_id = subscription_changes.subscription_external_id
            and mrr_at_month_end.last_changed_at = subscription_changes.changed_at
    -- scheduled amounts convert at the rate of the last day known
    left join exchange_rates
        on
            pending_events.currency = exchange_rates.currency
            and cast({{ dbt.dateadd('day', -1, 'pending_events.known_at') }} as date) = exchange_rates.rate_date
            and pending_events.currency <> '{{ project_var('reporting_currency') }}'
    where pending_events.recency_rank = 1
),

monthly_changes as (
    select
        month,
        sum(scheduled_mrr_change_in_cents) as scheduled_mrr_change_in_cents
    from scheduled_changes
    group by month
),

final as (
    select
        month_ends.month,
        month_ends.mrr,
        cast(coalesce(monthly_changes.scheduled_mrr_change_in_cents, 0) as {{ type_mrr() }})
            as scheduled_mrr_change,
        month_ends.mrr
        + cast(coalesce(monthly_changes.scheduled_mrr_change_in_cents, 0) as {{ type_mrr() }}) as cmrr
    from month_ends
    left join monthly_changes
        on month_ends.month = monthly_changes.month
)

select * from final
