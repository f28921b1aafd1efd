{#- prefix_ + a UUID-formatted md5 of the parts joined by ':' (same as mrr_warehouse.schema.deterministic_uuid),
    so UUIDs are a pure function of (data source, object type, external_id). -#}
{% macro deterministic_uuid(prefix, parts) -%}
    {{ return(adapter.dispatch('deterministic_uuid', 'mrr_warehouse')(prefix, parts)) }}
{%- endmacro %}

{% macro default__deterministic_uuid(prefix, parts) -%}
    {%- set digest = "md5(" ~ (parts | join(" || ':' || ")) ~ ")" -%}
    '{{ prefix }}_'
    || substr({{ digest }}, 1, 8) || '-' || substr({{ digest }}, 9, 4) || '-'
    || substr({{ digest }}, 13, 4) || '-' || substr({{ digest }}, 17, 4) || '-'
    || substr({{ digest }}, 21, 12)
{%- endmacro %}

{#- DuckDB formats 32 hex digits as a UUID by a cast, hashing once instead of once per group. -#}
{% macro duckdb__deterministic_uuid(prefix, parts) -%}
    '{{ prefix }}_' || cast(cast(md5({{ parts | join(" || ':' || ") }}) as uuid) as varchar)
{%- endmacro %}
