{#- Grain: one row per subscription per instant at which its MRR in the reporting currency or its active state
    changes (SPEC 3.3, 6; D15). A value is converted at the rate of the day it took effect. Every regular line
    revalues the subscription, so a renewal at the same native price can still move the converted MRR: that part
    is an fx adjustment, never a movement. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_build_scope('subscription') }}",
) }}
-- depends_on: {{ ref('int_build_scope') }}

with

timeline as (
    {{ select_in_build_scope('int_subscription_mrr_timeline', 'subscription') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates_daily') }}
),

converted as (
    select
        timeline.*,
        {{ exchange_rate('timeline.currency', 'exchange_rates.to_reporting_rate') }} as exchange_rate
    from timeline
    left join exchange_rates
        on
            timeline.currency = exchange_rates.currency
            and cast(timeline.changed_at as date) = exchange_rates.rate_date
),

revalued as (
    select
        *,
        lag(exchange_rate) over (partition by subscription_key order by changed_at) as previous_exchange_rate
    from converted
),

reported as (
    select
        data_source_uuid,
        customer_external_id,
        subscription_external_id,
        changed_at,
        event_order,
        change_kind,
        cause_type,
        cause_invoice_external_id,
        cause_object_key,
        load_id,
        is_active,
        was_active,
        currency,
        exchange_rate,
        native_mrr_before_in_cents,
        native_mrr_after_in_cents,
        cast(
            native_mrr_before_in_cents * coalesce(previous_exchange_rate, exchange_rate) as {{ type_mrr() }}
        ) as mrr_before_in_cents,
        cast(native_mrr_after_in_cents * exchange_rate as {{ type_mrr() }}) as mrr_after_in_cents,
        cast(
            (native_mrr_after_in_cents - native_mrr_before_in_cents) * exchange_rate as {{ type_mrr() }}
        ) as mrr_change_in_cents
    from revalued
    where
        native_mrr_after_in_cents <> native_mrr_before_in_cents
        or is_active <> was_active
        or exchange_rate <> previous_exchange_rate
        or exchange_rate is null
),

final as (
    select
        *,
        mrr_after_in_cents - mrr_before_in_cents - mrr_change_in_cents as fx_adjustment_in_cents
    from reported
)

select * from final
