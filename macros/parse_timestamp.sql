{#- An Import API timestamp text (date, date-time, ISO 8601 with 'T', fraction, 'Z' or an offset) as a UTC
    timestamp without time zone. A text without an offset is taken as UTC (SPEC conventions). -#}
{% macro parse_timestamp(expression) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'mrr_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__parse_timestamp(expression) -%}
    cast({{ expression }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__parse_timestamp(expression) -%}
    case
        when regexp_matches({{ expression }}, '(Z|[+-]\d\d:?\d\d)$')
            then timezone('UTC', cast({{ expression }} as timestamptz))
        else cast({{ expression }} as timestamp)
    end
{%- endmacro %}

{% macro spark__parse_timestamp(expression) -%}
    to_utc_timestamp(to_timestamp({{ expression }}), 'UTC')
{%- endmacro %}
