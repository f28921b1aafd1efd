-- An amount in a currency with no exchange rate on or before its date fails the build, naming every such currency
-- and date (SPEC 6).
with

subscription_changes as (
    select * from {{ ref('int_subscription_mrr_changes') }}
),

transactions as (
    select * from {{ ref('transactions') }}
),

missing_rates as (
    select distinct
        currency,
        cast(changed_at as date) as needed_on
    from subscription_changes
    where exchange_rate is null
    union
    select distinct
        currency,
        cast(transacted_at as date) as needed_on
    from transactions
    where exchange_rate is null
),

final as (
    select
        'no exchange rate to {{ var("reporting_currency") }} on or before the date for: '
        || {{ string_agg_ordered(
            "coalesce(currency, '(no currency)') || ' on ' || cast(needed_on as " ~ dbt.type_string() ~ ")",
            "', '",
            'needed_on, currency',
        ) }} as failure
    from missing_rates
    having count(*) > 0
)

-- Evaluated in the filter so that the engine cannot skip it, whatever the test wrapper selects.
select * from final
where {{ raise_error('failure') }} is not null
