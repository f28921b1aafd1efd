{#- Every MRR change of a customer's subscriptions in customer order, with the customer's MRR and number of
    active subscriptions before and after it, and its movement type (SPEC 4). Changes of the active state
    alone (a free subscription starting or ending) carry no movement but count for churn. -#}
{%- set grouping_seconds = project_var('smart_grouping_minutes') * 60 -%}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_build_scope('customer') }}",
) }}
-- depends_on: {{ ref('int_build_scope') }}

with recursive

subscription_changes as (
    select * from {{ ref('int_subscription_mrr_changes') }}
),

identities as (
    select * from {{ ref('int_customer_identities') }}
),

-- A merged customer's subscriptions count as the surviving customer's before anything is classified (SPEC 8):
-- from here on data_source_uuid and customer_external_id name the customer, not the subscription's source.
rekeyed as (
    select
        subscription_changes.data_source_uuid as subscription_data_source_uuid,
        subscription_changes.subscription_external_id,
        subscription_changes.changed_at,
        subscription_changes.event_order,
        subscription_changes.change_kind,
        subscription_changes.cause_type,
        subscription_changes.cause_invoice_external_id,
        subscription_changes.cause_object_key,
        subscription_changes.load_id,
        subscription_changes.is_active,
        subscription_changes.was_active,
        subscription_changes.currency,
        subscription_changes.exchange_rate,
        subscription_changes.native_mrr_before_in_cents,
        subscription_changes.native_mrr_after_in_cents,
        subscription_changes.mrr_before_in_cents,
        subscription_changes.mrr_after_in_cents,
        subscription_changes.mrr_change_in_cents,
        subscription_changes.fx_adjustment_in_cents,
        identities.reporting_data_source_uuid as data_source_uuid,
        identities.reporting_customer_external_id as customer_external_id
    from subscription_changes
    inner join identities
        on
            subscription_changes.data_source_uuid = identities.data_source_uuid
            and subscription_changes.customer_external_id = identities.customer_external_id
    where
        {{ in_build_scope(
            'customer', 'identities.reporting_data_source_uuid', 'identities.reporting_customer_external_id'
        ) }}
),

ordered as (
    select
        *,
        row_number() over (
            partition by data_source_uuid, customer_external_id
            order by changed_at, coalesce(event_order, 0), subscription_data_source_uuid, subscription_external_id
        ) as change_number,
        case
            when is_active and not was_active then 1
            when was_active and not is_active then -1
            else 0
        end as active_subscriptions_change
    from rekeyed
),

running as (
    select
        *,
        -- fx adjustments (SPEC 6) move the customer's converted MRR without being movements
        sum(mrr_change_in_cents + fx_adjustment_in_cents) over customer_history as customer_mrr_after_in_cents,
        sum(active_subscriptions_change) over customer_history as active_subscriptions_after,
        coalesce(max(mrr_after_in_cents) over previous_history, 0) > 0 as had_mrr_before
    from ordered
    window
        customer_history as (
            partition by data_source_uuid, customer_external_id
            order by change_number
            rows between unbounded preceding and current row
        ),
        previous_history as (
            partition by data_source_uuid, customer_external_id
            order by change_number
            rows between unbounded preceding and 1 preceding
        )
),

-- Branch order as SPEC 4 gives it: new business and reactivation, then churn, then expansion/contraction.
classified as (
    select
        *,
        customer_mrr_after_in_cents - mrr_change_in_cents as customer_mrr_before_in_cents,
        active_subscriptions_after - active_subscriptions_change as active_subscriptions_before,
        case
            when mrr_change_in_cents = 0 then null
            when customer_mrr_after_in_cents - mrr_change_in_cents = 0 and mrr_change_in_cents > 0
                then case
                        when not had_mrr_before then 'new_business'
                        when
                            active_subscriptions_after - active_subscriptions_change = 0
                        {% if project_var('free_downgrade_is_churn') %}or true{% endif %}
                            then 'reactivation'
                        else 'expansion'
                    end
            when
                customer_mrr_after_in_cents = 0 and mrr_change_in_cents < 0
                and (active_subscriptions_after = 0 {% if project_var('free_downgrade_is_churn') %}or true{% endif %})
                then 'churn'
            when mrr_change_in_cents > 0 then 'expansion'
            else 'contraction'
        end as individual_movement_type
    from running
),

-- Smart grouping (SPEC 4): a group is a change and every change up to smart_grouping_minutes after it; the next
-- change after that window starts the next group. A session is a run of changes each within the window of the
-- previous one: it always starts a group, and every change up to the window after the session's first change is in
-- that first group. Only changes later in a session (bursts longer than the window, which are rare) need the walk
-- from group start to group start below, so the walk's depth is the number of groups in a session. The grouping
-- CTEs carry only the columns they need (windows over narrow rows are cheaper); final joins the result back.
movements as (
    select
        data_source_uuid,
        customer_external_id,
        change_number,
        changed_at,
        individual_movement_type,
        customer_mrr_after_in_cents,
        {% if grouping_seconds > 0 %}
            case
                when
                    lag(changed_at) over customer_movements is null
                    or {{ seconds_between('lag(changed_at) over customer_movements', 'changed_at') }}
                    > {{ grouping_seconds }}
                    then 1
                else 0
            end
        {% else %}
            -- grouping off: every change is a session (and so a group) of its own
            1
        {% endif %} as starts_session
    from classified
    where individual_movement_type is not null
    window customer_movements as (
        partition by data_source_uuid, customer_external_id order by change_number
    )
),

sessions as (
    select
        *,
        sum(starts_session) over customer_so_far as session_number,
        -- changed_at never decreases in change order, so the running max is the session's first change
        max(case when starts_session = 1 then changed_at end) over customer_so_far as session_started_at
    from movements
    window customer_so_far as (
        partition by data_source_uuid, customer_external_id
        order by change_number
        rows between unbounded preceding and current row
    )
),

-- Changes of a session beyond its first group's window, numbered in change order, each with the number of the
-- first later change outside its own window: where the next group starts if this change starts one.
later_changes as (
    select
        data_source_uuid,
        customer_external_id,
        session_number,
        change_number,
        individual_movement_type,
        customer_mrr_after_in_cents,
        row_number() over session_changes as later_number,
        -- the later changes up to this one's window are a prefix in change order: their count + 1 numbers the
        -- first change outside it
        count(*) over (
            partition by data_source_uuid, customer_external_id, session_number
            order by changed_at
            range between unbounded preceding and interval '{{ grouping_seconds }}' second following
        ) + 1 as next_group_later_number
    from sessions
    where {{ seconds_between('session_started_at', 'changed_at') }} > {{ grouping_seconds }}
    window session_changes as (
        partition by data_source_uuid, customer_external_id, session_number order by change_number
    )
),

-- The first later change starts the session's second group; each group start points to the next.
later_group_starts as (
    select
        data_source_uuid,
        customer_external_id,
        session_number,
        later_number,
        next_group_later_number
    from later_changes
    where later_number = 1

    union all

    select
        later_changes.data_source_uuid,
        later_changes.customer_external_id,
        later_changes.session_number,
        later_changes.later_number,
        later_changes.next_group_later_number
    from later_group_starts
    inner join later_changes
        on
            later_group_starts.data_source_uuid = later_changes.data_source_uuid
            and later_group_starts.customer_external_id = later_changes.customer_external_id
            and later_group_starts.session_number = later_changes.session_number
            and later_group_starts.next_group_later_number = later_changes.later_number
),

-- Later changes marked as group starts or not. A semi and an anti join rather than a left join: the optimizer then
-- never estimates more rows here than later_changes has, whatever it guesses for the recursive CTE, and keeps
-- building the hash table of the join in final on the grouped side.
later_changes_marked as (
    select
        *,
        1 as starts_group
    from later_changes
    where exists (
            select 1
            from later_group_starts
            where
                later_group_starts.data_source_uuid = later_changes.data_source_uuid
                and later_group_starts.customer_external_id = later_changes.customer_external_id
                and later_group_starts.session_number = later_changes.session_number
                and later_group_starts.later_number = later_changes.later_number
        )

    union all

    select
        *,
        0 as starts_group
    from later_changes
    where not exists (
            select 1
            from later_group_starts
            where
                later_group_starts.data_source_uuid = later_changes.data_source_uuid
                and later_group_starts.customer_external_id = later_changes.customer_external_id
                and later_group_starts.session_number = later_changes.session_number
                and later_group_starts.later_number = later_changes.later_number
        )
),

-- group 0 of a session is its first change and every change up to the window after it; later groups are numbered
-- by the group starts found above
groups as (
    select
        data_source_uuid,
        customer_external_id,
        change_number,
        individual_movement_type,
        customer_mrr_after_in_cents,
        session_number,
        0 as group_in_session
    from sessions
    where {{ seconds_between('session_started_at', 'changed_at') }} <= {{ grouping_seconds }}

    union all

    select
        data_source_uuid,
        customer_external_id,
        change_number,
        individual_movement_type,
        customer_mrr_after_in_cents,
        session_number,
        sum(starts_group) over (
            partition by data_source_uuid, customer_external_id, session_number
            order by later_number
            rows between unbounded preceding and current row
        ) as group_in_session
    from later_changes_marked
),

group_bounds as (
    select
        *,
        first_value(individual_movement_type) over customer_group as group_first_type,
        last_value(individual_movement_type) over customer_group as group_last_type,
        last_value(customer_mrr_after_in_cents) over customer_group as group_mrr_after_in_cents
    from groups
    window customer_group as (
        partition by data_source_uuid, customer_external_id, session_number, group_in_session
        order by change_number
        rows between unbounded preceding and unbounded following
    )
),

grouped as (
    select
        *,
        case
            -- A group that starts and ends at 0 keeps its own types: it is a sign-up and a churn.
            when
                group_first_type in ('new_business', 'reactivation')
                and group_mrr_after_in_cents <> 0
                then group_first_type
            when
                group_last_type = 'churn'
                and group_first_type not in ('new_business', 'reactivation')
                then 'churn'
            else individual_movement_type
        end as movement_type
    from group_bounds
),

final as (
    select
        classified.data_source_uuid,
        classified.customer_external_id,
        classified.subscription_data_source_uuid,
        classified.subscription_external_id,
        classified.changed_at,
        classified.change_number,
        classified.event_order,
        classified.change_kind,
        classified.cause_type,
        classified.cause_invoice_external_id,
        classified.cause_object_key,
        classified.load_id,
        classified.mrr_change_in_cents,
        classified.fx_adjustment_in_cents,
        classified.currency,
        classified.exchange_rate,
        classified.mrr_before_in_cents as subscription_mrr_before_in_cents,
        classified.mrr_after_in_cents as subscription_mrr_after_in_cents,
        classified.customer_mrr_before_in_cents,
        classified.customer_mrr_after_in_cents,
        classified.was_active as was_subscription_active,
        classified.is_active as is_subscription_active,
        classified.active_subscriptions_before,
        classified.active_subscriptions_after,
        classified.individual_movement_type,
        grouped.movement_type,
        classified.native_mrr_after_in_cents - classified.native_mrr_before_in_cents as native_mrr_change_in_cents
    from classified
    left join grouped
        on
            classified.data_source_uuid = grouped.data_source_uuid
            and classified.customer_external_id = grouped.customer_external_id
            and classified.change_number = grouped.change_number
)

select * from final
