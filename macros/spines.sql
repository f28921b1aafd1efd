{#- One row per month (first day, as a date) from the month of start_date to the month of end_date. -#}
{% macro month_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('month_spine', 'mrr_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__month_spine(start_date, end_date) -%}
    select cast(generated.month_start as date) as month
    from generate_series(
        cast({{ dbt.date_trunc('month', start_date) }} as date),
        cast({{ dbt.date_trunc('month', end_date) }} as date),
        interval 1 month
    ) as generated (month_start)
{%- endmacro %}

{% macro spark__month_spine(start_date, end_date) -%}
    select explode(sequence(
        cast({{ dbt.date_trunc('month', start_date) }} as date),
        cast({{ dbt.date_trunc('month', end_date) }} as date),
        interval 1 month
    )) as month
{%- endmacro %}

{#- One row per day (as a date, column `day`) from start_date to end_date. -#}
{% macro day_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('day_spine', 'mrr_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__day_spine(start_date, end_date) -%}
    select cast(generated.day_start as date) as day
    from generate_series(
        cast({{ start_date }} as timestamp),
        cast({{ end_date }} as timestamp),
        interval 1 day
    ) as generated (day_start)
{%- endmacro %}

{% macro spark__day_spine(start_date, end_date) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as day
{%- endmacro %}
