{#- Each subscription's MRR as a step function: one row per instant at which its MRR or its active state
    changes (SPEC 3.3). Set-based: value resets (lines, cancellations, auto-churn) split a subscription's
    timeline into epochs; within an epoch the MRR is the reset value plus the differential prorations so far. -#}
{%- set past_due_auto_churn_days = project_var('past_due_auto_churn_days') -%}

with

line_items as (
    select * from {{ ref('int_line_items_normalized') }}
),

cancellations as (
    select * from {{ ref('int_subscription_cancellations') }}
),

data_sources as (
    select * from {{ ref('stg_data_sources') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates_daily') }}
),

subscription_events as (
    select * from {{ ref('int_subscription_events_normalized') }}
    where
        {{ 'true' if project_var('subscription_events_drive_mrr') else 'false' }}
        and event_type in ('subscription_start', 'subscription_updated')
        and event_mrr_in_cents is not null
),

-- A subscription belongs to the customer of its latest line's invoice (or, for a subscription known only from
-- events, of its latest event).
subscription_owners as (
    select
        data_source_uuid,
        subscription_external_id,
        customer_external_id,
        currency,
        -- The window functions below sort by this integer instead of two strings.
        row_number() over () as subscription_key
    from (
        select
            data_source_uuid,
            subscription_external_id,
            customer_external_id,
            currency,
            row_number() over (
                partition by data_source_uuid, subscription_external_id
                order by source_rank asc, started_at desc, object_seq desc
            ) as owner_rank
        from (
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
        ) as owner_candidates
    ) as ranked
    where owner_rank = 1
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
        sum(subscription_events.event_mrr_in_cents) as reset_mrr_in_cents,
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

-- Lines of one subscription sharing a service_period_start are summed (SPEC 3.3).
line_resets as (
    select
        data_source_uuid,
        subscription_external_id,
        service_period_start_at as changed_at,
        max(service_period_end_at) as service_period_end_at,
        sum(line_mrr_in_cents) as reset_mrr_in_cents,
        min(event_order) as event_order,
        min(invoice_external_id) as cause_invoice_external_id,
        min(coalesce(line_item_external_id, line_item_key)) as cause_object_key,
        max(load_id) as load_id
    from line_items
    where not is_mrr_addition
    group by data_source_uuid, subscription_external_id, service_period_start_at
),

line_additions as (
    select
        data_source_uuid,
        subscription_external_id,
        service_period_start_at as changed_at,
        sum(line_mrr_in_cents) as added_mrr_in_cents,
        min(event_order) as event_order,
        min(invoice_external_id) as cause_invoice_external_id,
        min(coalesce(line_item_external_id, line_item_key)) as cause_object_key,
        max(load_id) as load_id
    from line_items
    where is_mrr_addition
    group by data_source_uuid, subscription_external_id, service_period_start_at
),

-- Good faith: a subscription keeps its MRR past its last service period until cancelled, unless the data
-- source (or var past_due_auto_churn_days) cancels it a number of days after the covered time ends.
coverage as (
    select
        line_resets.data_source_uuid,
        line_resets.subscription_external_id,
        max(line_resets.service_period_end_at) over (
            partition by line_resets.data_source_uuid, line_resets.subscription_external_id
            order by line_resets.changed_at
            rows between unbounded preceding and current row
        ) as covered_until_at,
        lead(line_resets.changed_at) over (
            partition by line_resets.data_source_uuid, line_resets.subscription_external_id
            order by line_resets.changed_at
        ) as next_reset_at,
        case
            when data_sources.is_auto_churn_enabled then data_sources.auto_churn_interval_days
            when data_sources.is_auto_churn_enabled is null
                then cast({{ past_due_auto_churn_days if past_due_auto_churn_days is not none else 'null' }} as integer)
        end as auto_churn_days,
        line_resets.load_id
    from line_resets
    left join data_sources
        on line_resets.data_source_uuid = data_sources.data_source_uuid
),

auto_churns as (
    select
        data_source_uuid,
        subscription_external_id,
        {{ dbt.dateadd('day', 'auto_churn_days', 'covered_until_at') }} as changed_at,
        load_id
    from coverage
    where
        auto_churn_days is not null
        and (
            next_reset_at is null
            or next_reset_at > {{ dbt.dateadd('day', 'auto_churn_days', 'covered_until_at') }}
        )
),

-- change_rank orders changes at the same instant: a new line, then prorations, then a cancellation.
changes as (
    select
        data_source_uuid,
        subscription_external_id,
        changed_at,
        0 as change_rank,
        'reset' as change_kind,
        reset_mrr_in_cents,
        cast(0 as {{ type_mrr() }}) as added_mrr_in_cents,
        event_order,
        'line_item' as cause_type,
        cause_invoice_external_id,
        cause_object_key,
        load_id
    from line_resets

    union all

    select
        data_source_uuid,
        subscription_external_id,
        changed_at,
        0 as change_rank,
        'reset' as change_kind,
        reset_mrr_in_cents,
        cast(0 as {{ type_mrr() }}) as added_mrr_in_cents,
        cast(null as bigint) as event_order,
        'subscription_event' as cause_type,
        cast(null as {{ dbt.type_string() }}) as cause_invoice_external_id,
        cause_object_key,
        load_id
    from event_resets

    union all

    select
        data_source_uuid,
        subscription_external_id,
        changed_at,
        1 as change_rank,
        'addition' as change_kind,
        cast(null as {{ type_mrr() }}) as reset_mrr_in_cents,
        added_mrr_in_cents,
        event_order,
        'line_item' as cause_type,
        cause_invoice_external_id,
        cause_object_key,
        load_id
    from line_additions

    union all

    select
        data_source_uuid,
        subscription_external_id,
        cancelled_at as changed_at,
        2 as change_rank,
        'cancellation' as change_kind,
        cast(0 as {{ type_mrr() }}) as reset_mrr_in_cents,
        cast(0 as {{ type_mrr() }}) as added_mrr_in_cents,
        cast(null as bigint) as event_order,
        cause_type,
        cause_invoice_external_id,
        cause_object_key,
        load_id
    from cancellations

    union all

    select
        data_source_uuid,
        subscription_external_id,
        changed_at,
        2 as change_rank,
        'cancellation' as change_kind,
        cast(0 as {{ type_mrr() }}) as reset_mrr_in_cents,
        cast(0 as {{ type_mrr() }}) as added_mrr_in_cents,
        cast(null as bigint) as event_order,
        'auto_churn' as cause_type,
        cast(null as {{ dbt.type_string() }}) as cause_invoice_external_id,
        cast(null as {{ dbt.type_string() }}) as cause_object_key,
        load_id
    from auto_churns
),

-- Nothing is reported after the as-of date; cancellations of subscriptions without lines change nothing. The
-- timeline below runs on narrow rows (key, instant, kind, amounts); the rest of each change joins back at the end.
reportable_changes as (
    select
        changes.*,
        subscription_owners.subscription_key,
        row_number() over () as change_id
    from changes
    inner join subscription_owners
        on
            changes.data_source_uuid = subscription_owners.data_source_uuid
            and changes.subscription_external_id = subscription_owners.subscription_external_id
    where changes.changed_at < {{ reporting_cutoff_at() }}
),

epochs as (
    select
        change_id,
        subscription_key,
        changed_at,
        change_rank,
        change_kind,
        reset_mrr_in_cents,
        added_mrr_in_cents,
        sum(case when change_kind = 'addition' then 0 else 1 end) over (
            partition by subscription_key
            order by changed_at, change_rank
            rows between unbounded preceding and current row
        ) as epoch_number,
        sum(case when change_kind = 'cancellation' then 1 else 0 end) over (
            partition by subscription_key
            order by changed_at, change_rank
            rows between unbounded preceding and current row
        ) as cancellation_number
    from reportable_changes
),

valued as (
    select
        *,
        -- A cancelled epoch stays at 0: only a later (non-differential) line reactivates the subscription.
        case
            when max(case when change_kind = 'cancellation' then 1 else 0 end)
                    over (
                        partition by subscription_key, epoch_number
                    )
                = 1 then cast(0 as {{ type_mrr() }})
            else
                coalesce(max(reset_mrr_in_cents) over (
                    partition by subscription_key, epoch_number
                ), 0)
                + sum(added_mrr_in_cents) over (
                    partition by subscription_key, epoch_number
                    order by changed_at, change_rank
                    rows between unbounded preceding and current row
                )
        end as mrr_in_cents,
        max(case when change_kind = 'cancellation' then 1 else 0 end) over (
            partition by subscription_key, epoch_number
        ) = 1 as is_cancelled_epoch
    from epochs
),

-- A subscription starts at its first positive MRR (trial and zero lines create no paid subscription) and
-- is active from then until a cancellation.
activity as (
    select
        *,
        not is_cancelled_epoch
        and max(case when mrr_in_cents > 0 then 1 else 0 end) over (
            partition by subscription_key, cancellation_number
            order by changed_at, change_rank
            rows between unbounded preceding and current row
        ) = 1 as is_active,
        row_number() over (
            partition by subscription_key, changed_at
            order by change_rank desc
        ) as instant_rank
    from valued
),

-- Several changes at one instant are one change: the state after the last of them.
instants as (
    select
        change_id,
        subscription_key,
        changed_at,
        change_kind,
        mrr_in_cents,
        is_active,
        lag(mrr_in_cents) over (partition by subscription_key order by changed_at) as previous_mrr_in_cents,
        lag(is_active) over (partition by subscription_key order by changed_at) as was_active
    from activity
    where instant_rank = 1
),

-- Reporting-currency values (SPEC 6): a value is converted at the rate of the day it took effect. Every regular
-- line revalues the subscription, so a renewal at the same native price can still move the converted MRR: that
-- part is an fx adjustment, never a movement.
converted as (
    select
        instants.*,
        {{ exchange_rate('subscription_owners.currency', 'exchange_rates.to_reporting_rate') }} as exchange_rate
    from instants
    inner join subscription_owners
        on instants.subscription_key = subscription_owners.subscription_key
    left join exchange_rates
        on
            subscription_owners.currency = exchange_rates.currency
            and cast(instants.changed_at as date) = exchange_rates.rate_date
    where
        instants.mrr_in_cents <> coalesce(instants.previous_mrr_in_cents, 0)
        or instants.is_active <> coalesce(instants.was_active, false)
        or instants.change_kind = 'reset'
),

revalued as (
    select
        *,
        lag(exchange_rate) over (partition by subscription_key order by changed_at) as previous_exchange_rate
    from converted
),

reported as (
    select
        changes.data_source_uuid,
        subscription_owners.customer_external_id,
        changes.subscription_external_id,
        changes.changed_at,
        changes.event_order,
        changes.change_kind,
        changes.cause_type,
        changes.cause_invoice_external_id,
        changes.cause_object_key,
        changes.load_id,
        revalued.is_active,
        coalesce(revalued.was_active, false) as was_active,
        subscription_owners.currency,
        revalued.exchange_rate,
        coalesce(revalued.previous_mrr_in_cents, 0) as native_mrr_before_in_cents,
        revalued.mrr_in_cents as native_mrr_after_in_cents,
        cast(
            coalesce(revalued.previous_mrr_in_cents, 0)
            * coalesce(revalued.previous_exchange_rate, revalued.exchange_rate)
            as {{ type_mrr() }}
        ) as mrr_before_in_cents,
        cast(revalued.mrr_in_cents * revalued.exchange_rate as {{ type_mrr() }}) as mrr_after_in_cents,
        cast(
            (revalued.mrr_in_cents - coalesce(revalued.previous_mrr_in_cents, 0)) * revalued.exchange_rate
            as {{ type_mrr() }}
        ) as mrr_change_in_cents
    from revalued
    inner join reportable_changes as changes
        on revalued.change_id = changes.change_id
    inner join subscription_owners
        on revalued.subscription_key = subscription_owners.subscription_key
    where
        revalued.mrr_in_cents <> coalesce(revalued.previous_mrr_in_cents, 0)
        or revalued.is_active <> coalesce(revalued.was_active, false)
        or revalued.exchange_rate <> revalued.previous_exchange_rate
        or revalued.exchange_rate is null
),

final as (
    select
        *,
        mrr_after_in_cents - mrr_before_in_cents - mrr_change_in_cents as fx_adjustment_in_cents
    from reported
)

select * from final
