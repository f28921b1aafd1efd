{#- Seconds from start to end as a number (fractions kept where the engine has them). -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'mrr_warehouse')(start, end)) }}
{%- endmacro %}

{% macro default__seconds_between(start, end) -%}
    {{ dbt.datediff(start, end, 'second') }}
{%- endmacro %}

{% macro duckdb__seconds_between(start, end) -%}
    (epoch({{ end }}) - epoch({{ start }}))
{%- endmacro %}

{#- Microseconds apart, as DuckDB's epoch() difference keeps them; for TIMESTAMP_NTZ as the models use (D43). -#}
{% macro spark__seconds_between(start, end) -%}
    (cast(timestampdiff(MICROSECOND, {{ start }}, {{ end }}) as double) / 1000000)
{%- endmacro %}
