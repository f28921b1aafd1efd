{#- One row per currency per calendar day, from its first published rate to the as-of date: the rate published
    that day or, on a weekend or holiday, the latest one published before it (SPEC 6). A daily grain lets every
    conversion be an equi-join on (currency, date), which scales where a range join would not. -#}
{#- The seed is loaded by now, also on a first build that the on-run-start check could not cover. -#}
{%- if execute -%}{%- do _check_reporting_currency_has_rates() -%}{%- endif -%}

with

rates as (
    select * from {{ ref('stg_exchange_rates') }}
),

invoices as (
    select * from {{ ref('stg_invoices') }}
),

subscription_events as (
    select * from {{ ref('stg_subscription_events') }}
),

-- Only the currencies the data uses, and the reporting currency, need a daily series.
currencies_in_use as (
    select currency from invoices
    union
    select currency from subscription_events
    union
    select '{{ project_var('reporting_currency') }}' as currency
),

publication_ranges as (
    select
        rates.currency,
        rates.rate_date as valid_from,
        coalesce(
            lead(rates.rate_date) over (partition by rates.currency order by rates.rate_date),
            cast({{ dbt.dateadd('day', 1, as_of_date()) }} as date)
        ) as valid_until,
        rates.units_per_eur
    from rates
    inner join currencies_in_use
        on rates.currency = currencies_in_use.currency
),

-- Each published rate covers the days until the next publication: expanding every range on its own keeps this
-- linear in the number of days (a join against a day spine becomes a nested loop).
daily as (
    select
        currency,
        {{ days_from_until('valid_from', 'valid_until') }} as rate_date,
        units_per_eur
    from publication_ranges
),

-- Units of the reporting currency per unit of each currency: both ECB rates are per 1 EUR.
final as (
    select
        daily.currency,
        daily.rate_date,
        daily.units_per_eur,
        reporting.units_per_eur / daily.units_per_eur as to_reporting_rate
    from daily
    inner join daily as reporting
        on
            daily.rate_date = reporting.rate_date
            and reporting.currency = '{{ project_var('reporting_currency') }}'
)

select * from final
