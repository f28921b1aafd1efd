{#- prefix_ + a UUID-formatted md5 of the parts joined by ':' (same as mrr_warehouse.schema.deterministic_uuid),
    so UUIDs are a pure function of (data source, object type, external_id). -#}
{% macro deterministic_uuid(prefix, parts) -%}
    {%- set joined = parts | join(" || ':' || ") -%}
    {%- set digest = "md5(" ~ joined ~ ")" -%}
    '{{ prefix }}_'
    || substr({{ digest }}, 1, 8) || '-' || substr({{ digest }}, 9, 4) || '-'
    || substr({{ digest }}, 13, 4) || '-' || substr({{ digest }}, 17, 4) || '-'
    || substr({{ digest }}, 21, 12)
{%- endmacro %}
