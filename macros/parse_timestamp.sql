{#- An Import API timestamp text (date, date-time, ISO 8601 with 'T', fraction, 'Z' or an offset) as a UTC
    timestamp without time zone. A text without an offset is taken as UTC (SPEC conventions). The loader has
    validated every timestamp field it knows; safe=true gives null instead of an error for free-form values
    (custom attributes). -#}
{% macro parse_timestamp(expression, safe=false) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'mrr_warehouse')(expression, safe)) }}
{%- endmacro %}

{% macro default__parse_timestamp(expression, safe) -%}
    {{ 'try_cast' if safe else 'cast' }}({{ expression }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__parse_timestamp(expression, safe) -%}
    {%- set cast_function = 'try_cast' if safe else 'cast' -%}
    case
        when regexp_matches({{ expression }}, '(Z|[+-]\d\d:?\d\d)$')
            then timezone('UTC', {{ cast_function }}({{ expression }} as timestamptz))
        else {{ cast_function }}({{ expression }} as timestamp)
    end
{%- endmacro %}

{% macro spark__parse_timestamp(expression, safe) -%}
    to_utc_timestamp(to_timestamp({{ expression }}), 'UTC')
{%- endmacro %}
