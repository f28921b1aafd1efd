{#- Text of one top-level field of a JSON column (null when absent or JSON null). Engines spell this
    differently; staging models call only this macro. -#}
{% macro json_field(column, field) -%}
    {{ return(adapter.dispatch('json_field', 'mrr_warehouse')(column, field)) }}
{%- endmacro %}

{% macro default__json_field(column, field) -%}
    json_extract_path_text({{ column }}, '{{ field }}')
{%- endmacro %}

{% macro duckdb__json_field(column, field) -%}
    json_extract_string({{ column }}, '$."{{ field }}"')
{%- endmacro %}

{% macro spark__json_field(column, field) -%}
    get_json_object({{ column }}, '$.{{ field }}')
{%- endmacro %}

{#- Raw JSON of one top-level field (arrays, objects). -#}
{% macro json_value(column, field) -%}
    {{ return(adapter.dispatch('json_value', 'mrr_warehouse')(column, field)) }}
{%- endmacro %}

{% macro default__json_value(column, field) -%}
    json_extract_path({{ column }}, '{{ field }}')
{%- endmacro %}

{% macro duckdb__json_value(column, field) -%}
    json_extract({{ column }}, '$."{{ field }}"')
{%- endmacro %}

{% macro spark__json_value(column, field) -%}
    get_json_object({{ column }}, '$.{{ field }}')
{%- endmacro %}

{#- One row per element of a JSON array of strings: use as `select ..., {{ json_string_array_element(col) }} as x`
    (a set-returning expression). -#}
{% macro json_string_array_elements(column) -%}
    {{ return(adapter.dispatch('json_string_array_elements', 'mrr_warehouse')(column)) }}
{%- endmacro %}

{% macro duckdb__json_string_array_elements(column) -%}
    unnest(json_extract_string({{ column }}, '$[*]'))
{%- endmacro %}

{% macro spark__json_string_array_elements(column) -%}
    explode(from_json({{ column }}, 'array<string>'))
{%- endmacro %}

{#- One row per element of a JSON array found at a top-level field, each element as JSON (a set-returning
    expression). -#}
{% macro json_array_elements(column, field) -%}
    {{ return(adapter.dispatch('json_array_elements', 'mrr_warehouse')(column, field)) }}
{%- endmacro %}

{% macro duckdb__json_array_elements(column, field) -%}
    unnest(json_extract({{ column }}, '$."{{ field }}"[*]'))
{%- endmacro %}

{% macro spark__json_array_elements(column, field) -%}
    explode(from_json(get_json_object({{ column }}, '$.{{ field }}'), 'array<string>'))
{%- endmacro %}

{#- Several top-level fields of a JSON column parsed at once: engines that can turn JSON into a record parse each
    body once instead of once per field, which is most of the staging cost. Read a field with json_record_field;
    values are text as json_field gives them (objects and arrays as JSON text, JSON null as null). -#}
{% macro json_record(column, fields) -%}
    {{ return(adapter.dispatch('json_record', 'mrr_warehouse')(column, fields)) }}
{%- endmacro %}

{% macro default__json_record(column, fields) -%}
    {{ column }}
{%- endmacro %}

{% macro duckdb__json_record(column, fields) -%}
    json_transform({{ column }}, '{ {%- for field in fields -%} "{{ field }}":"VARCHAR"{{ "," if not loop.last }} {%- endfor -%} }')
{%- endmacro %}

{% macro spark__json_record(column, fields) -%}
    from_json({{ column }}, '{%- for field in fields -%} `{{ field }}` string{{ ", " if not loop.last }} {%- endfor -%}')
{%- endmacro %}

{% macro json_record_field(record, field) -%}
    {{ return(adapter.dispatch('json_record_field', 'mrr_warehouse')(record, field)) }}
{%- endmacro %}

{% macro default__json_record_field(record, field) -%}
    {{ json_field(record, field) }}
{%- endmacro %}

{% macro duckdb__json_record_field(record, field) -%}
    struct_extract({{ record }}, '{{ field }}')
{%- endmacro %}

{% macro spark__json_record_field(record, field) -%}
    {{ record }}.`{{ field }}`
{%- endmacro %}
