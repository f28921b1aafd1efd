{#- Units of the reporting currency per unit of `currency`: 1 for the reporting currency itself (no rate needed,
    whatever the date), otherwise the daily rate joined from int_exchange_rates_daily (null when none was
    published on or before the date; tests/dbt/assert_exchange_rates_exist.sql fails the build then). -#}
{% macro exchange_rate(currency, daily_rate) -%}
    case
        when {{ currency }} = '{{ project_var('reporting_currency') }}' then 1.0
        else {{ daily_rate }}
    end
{%- endmacro %}
