{#- One row per month (first day, as a date) from the month of start_date to the month of end_date. -#}
{% macro month_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('month_spine', 'mrr_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__month_spine(start_date, end_date) -%}
    {{ spark__month_spine(start_date, end_date) }}
{%- endmacro %}

{% macro duckdb__month_spine(start_date, end_date) -%}
    select cast(generated.month_start as date) as month
    from generate_series(
        cast({{ dbt.date_trunc('month', start_date) }} as date),
        cast({{ dbt.date_trunc('month', end_date) }} as date),
        interval 1 month
    ) as generated (month_start)
{%- endmacro %}

{#- Spark's sequence() raises where generate_series is empty (an end before the start): explode(null) is. -#}
{% macro spark__month_spine(start_date, end_date) -%}
    select explode(case
        when cast({{ dbt.date_trunc('month', start_date) }} as date)
            <= cast({{ dbt.date_trunc('month', end_date) }} as date)
            then sequence(
                cast({{ dbt.date_trunc('month', start_date) }} as date),
                cast({{ dbt.date_trunc('month', end_date) }} as date),
                interval 1 month
            )
    end) as month
{%- endmacro %}

{#- One row per day (a date) from start (inclusive) to end (exclusive), as a set-returning expression of the select
    list. Spark refuses a generator nested in another expression, so the cast to date is inside each variant. -#}
{% macro days_from_until(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_from_until', 'mrr_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_from_until(start_date, end_date) -%}
    {{ spark__days_from_until(start_date, end_date) }}
{%- endmacro %}

{% macro duckdb__days_from_until(start_date, end_date) -%}
    cast(unnest(generate_series(
        cast({{ start_date }} as timestamp),
        cast({{ end_date }} as timestamp) - interval 1 day,
        interval 1 day
    )) as date)
{%- endmacro %}

{% macro spark__days_from_until(start_date, end_date) -%}
    explode(case
        when cast({{ start_date }} as date) < cast({{ end_date }} as date)
            then sequence(cast({{ start_date }} as date), date_sub(cast({{ end_date }} as date), 1), interval 1 day)
    end)
{%- endmacro %}
