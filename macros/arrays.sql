{#- Sorted array of a column's values within a group, and an empty array literal. -#}
{% macro array_agg_sorted(column) -%}
    {{ return(adapter.dispatch('array_agg_sorted', 'mrr_warehouse')(column)) }}
{%- endmacro %}

{% macro default__array_agg_sorted(column) -%}
    array_sort(array_agg({{ column }}))
{%- endmacro %}

{% macro duckdb__array_agg_sorted(column) -%}
    list({{ column }} order by {{ column }})
{%- endmacro %}

{% macro empty_array() -%}
    {{ return(adapter.dispatch('empty_array', 'mrr_warehouse')()) }}
{%- endmacro %}

{% macro default__empty_array() -%}
    array()
{%- endmacro %}

{% macro duckdb__empty_array() -%}
    []
{%- endmacro %}
