{#- Grain: one row per subscription per instant at which its MRR (in its own currency) or its active state
    changes, or a regular line resets it even to the same value (the currency step revalues there), with what
    caused it (SPEC 3.3). Value resets (lines, cancellations, auto-churn) split a subscription's history into
    epochs; within an epoch the MRR is the reset value plus the differential prorations so far (D5, D6, D7). -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_build_scope('subscription') }}",
) }}
-- depends_on: {{ ref('int_build_scope') }}

with

value_changes as (
    {{ select_in_build_scope('int_subscription_value_changes', 'subscription') }}
),

cancellations as (
    {{ select_in_build_scope('int_subscription_cancellations', 'subscription') }}
),

auto_churns as (
    {{ select_in_build_scope('int_subscription_auto_churns', 'subscription') }}
),

subscription_owners as (
    {{ select_in_build_scope('int_subscription_owners', 'subscription') }}
),

-- change_rank orders changes at the same instant: a new line, then prorations, then a cancellation.
changes as (
    select
        data_source_uuid,
        subscription_external_id,
        changed_at,
        case when change_kind = 'reset' then 0 else 1 end as change_rank,
        change_kind,
        case when change_kind = 'reset' then mrr_in_cents end as reset_mrr_in_cents,
        case when change_kind = 'reset' then cast(0 as {{ type_mrr() }}) else mrr_in_cents end
            as added_mrr_in_cents,
        event_order,
        cause_type,
        cause_invoice_external_id,
        cause_object_key,
        load_id
    from value_changes

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
        {{ row_key() }} as change_id
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

final as (
    select
        changes.data_source_uuid,
        changes.subscription_external_id,
        instants.subscription_key,
        subscription_owners.customer_external_id,
        subscription_owners.currency,
        instants.changed_at,
        changes.event_order,
        changes.change_kind,
        changes.cause_type,
        changes.cause_invoice_external_id,
        changes.cause_object_key,
        changes.load_id,
        instants.is_active,
        instants.mrr_in_cents as native_mrr_after_in_cents,
        coalesce(instants.was_active, false) as was_active,
        coalesce(instants.previous_mrr_in_cents, 0) as native_mrr_before_in_cents
    from instants
    inner join reportable_changes as changes
        on instants.change_id = changes.change_id
    inner join subscription_owners
        on instants.subscription_key = subscription_owners.subscription_key
    where
        instants.mrr_in_cents <> coalesce(instants.previous_mrr_in_cents, 0)
        or instants.is_active <> coalesce(instants.was_active, false)
        or instants.change_kind = 'reset'
)

select * from final
