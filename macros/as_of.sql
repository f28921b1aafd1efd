{#- The as-of date (var as_of_date, default today) and the exclusive upper bound of what is reported:
    nothing at or after the start of the following day appears in any mart. -#}
{% macro as_of_date() -%}
    {%- if project_var('as_of_date') -%}
        cast('{{ project_var("as_of_date") }}' as date)
    {%- else -%}
        current_date
    {%- endif -%}
{%- endmacro %}

{% macro reporting_cutoff_at() -%}
    cast({{ dbt.dateadd('day', 1, as_of_date()) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}
