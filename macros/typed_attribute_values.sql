{#- The value_integer, value_decimal, value_timestamp and value_boolean columns of a custom attribute: its text
    cast by its declared type (SPEC 7), null in the other columns and where the text is not of that type. -#}
{% macro typed_attribute_values(attribute_type, value_text) -%}
    case when {{ attribute_type }} = 'Integer' then try_cast({{ value_text }} as bigint) end as value_integer,
    case when {{ attribute_type }} = 'Decimal' then try_cast({{ value_text }} as double) end as value_decimal,
    case
        when {{ attribute_type }} = 'Timestamp' then {{ parse_timestamp(value_text, safe=true) }}
    end as value_timestamp,
    case when {{ attribute_type }} = 'Boolean' then try_cast({{ value_text }} as boolean) end as value_boolean
{%- endmacro %}
