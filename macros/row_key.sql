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
