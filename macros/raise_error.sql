{#- Aborts the query with the message where the engine can (DuckDB's error()); elsewhere returns the message, so a
    test that selects it still fails, with the message in its stored failures. -#}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'mrr_warehouse')(message)) }}
{%- endmacro %}

{% macro default__raise_error(message) -%}
    {{ message }}
{%- endmacro %}

{% macro duckdb__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}
