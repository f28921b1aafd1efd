{#- The one home of the types staging gives Import API fields that are not text. Staging models read such a field
    with typed_field(); a landed object with a value its type cannot hold (an integer past bigint, a plan interval
    past integer, a timestamp no engine reads) is left out of staging and listed in stg_quarantined_objects,
    instead of failing every build from then on (docs/decisions.md D30). The loader rejects such values before they
    land; this is the second line of defence, for objects landed by older versions. -#}
{% macro staged_field_types(object_type) -%}
    {%- set types = {
        'customer': {'lead_created_at': 'timestamp', 'free_trial_started_at': 'timestamp'},
        'plan': {'interval_count': 'integer'},
        'invoice': {'date': 'timestamp', 'due_date': 'timestamp'},
        'line_item': {
            'service_period_start': 'timestamp', 'service_period_end': 'timestamp', 'amount_in_cents': 'bigint',
            'quantity': 'bigint', 'discount_amount_in_cents': 'bigint', 'tax_amount_in_cents': 'bigint',
            'transaction_fees_in_cents': 'bigint', 'prorated': 'boolean', 'cancelled_at': 'timestamp',
            'event_order': 'bigint',
        },
        'transaction': {'date': 'timestamp', 'amount_in_cents': 'bigint'},
        'subscription_event': {
            'event_date': 'timestamp', 'effective_date': 'timestamp', 'amount_in_cents': 'bigint',
            'tax_amount_in_cents': 'bigint', 'quantity': 'bigint',
        },
    } -%}
    {{ return(types[object_type]) }}
{%- endmacro %}

{#- The field cast to its staged type; null when it is absent or cannot be read as that type. read_field(field)
    gives the field's text: read_record_field (models that parse the body once into body_fields with json_record)
    or read_body_field. -#}
{% macro typed_field(object_type, field, read_field) -%}
    {%- set field_type = staged_field_types(object_type)[field] -%}
    {%- set text = read_field(field) -%}
    {%- if field_type == 'timestamp' -%}
        {{ parse_timestamp(text, safe=true) }}
    {%- else -%}
        {{ try_cast_as(text, field_type) }}
    {%- endif -%}
{%- endmacro %}

{#- The typed fields of an object whose text its type cannot hold, comma-separated; null when every one can. -#}
{% macro unreadable_fields(object_type, read_field) -%}
    nullif(concat_ws(', ',
        {%- for field, field_type in staged_field_types(object_type).items() %}
            case
                when {{ read_field(field) }} is not null and {{ typed_field(object_type, field, read_field) }} is null
                    then '{{ field }} ({{ field_type }})'
            end{{ ',' if not loop.last }}
        {%- endfor %}
    ), '')
{%- endmacro %}

{#- Field readers for typed_field and unreadable_fields. -#}
{% macro read_record_field(field) -%}
    {{ json_record_field('body_fields', field) }}
{%- endmacro %}

{% macro read_body_field(field) -%}
    {{ json_field('body', field) }}
{%- endmacro %}

{#- A cast that gives null instead of an error. dbt.safe_cast is a plain cast on adapters that do not override
    it, dbt-duckdb among them. -#}
{% macro try_cast_as(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast_as', 'mrr_warehouse')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast_as(expression, data_type) -%}
    {{ dbt.safe_cast(expression, data_type) }}
{%- endmacro %}

{% macro duckdb__try_cast_as(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}

{% macro spark__try_cast_as(expression, data_type) -%}
    try_cast({{ expression }} as {{ data_type }})
{%- endmacro %}
