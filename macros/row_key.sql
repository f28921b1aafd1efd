{#- A number that tells the rows of one query apart (a join key within a model, not an order). Spark refuses a
    window without ORDER BY, and numbering rows in order would sort them all in one partition; its
    monotonically_increasing_id() is unique without a shuffle (docs/decisions.md D43). -#}
{% macro row_key() -%}
    {{ return(adapter.dispatch('row_key', 'mrr_warehouse')()) }}
{%- endmacro %}

{% macro default__row_key() -%}
    row_number() over ()
{%- endmacro %}

{% macro spark__row_key() -%}
    monotonically_increasing_id()
{%- endmacro %}

{#- A number that names one thing (e.g. a subscription) the same in every build: a 63-bit hash of its key columns,
    so incremental builds can join rows built on different days (D47). -#}
{% macro stable_key(columns) -%}
    {{ return(adapter.dispatch('stable_key', 'mrr_warehouse')(columns)) }}
{%- endmacro %}

{% macro default__stable_key(columns) -%}
    cast(hash({{ columns | join(', ') }}) % 9223372036854775807 as bigint)
{%- endmacro %}

{% macro spark__stable_key(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}
