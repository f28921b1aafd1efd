{#- One row per landed object version that staging set aside because a typed field holds a value its type cannot
    (macros/staged_types.sql, docs/decisions.md D30). The loader rejects such values, so this stays empty unless
    objects were landed by an older version; warn_quarantined_objects reports it without stopping the build.
    Immutable types are found as the objects their incremental staging table lacks, so that only those are
    parsed again; versioned types are checked on their current version, as their staging views pick it. -#}
{{ config(materialized='table') }}
{%- set staged = {
    'customer': none, 'plan': none, 'subscription_event': none,
    'invoice': 'stg_invoices', 'line_item': 'stg_line_items', 'transaction': 'stg_transactions',
} %}

with

{% for object_type, staging_table in staged.items() %}
    {{ object_type }}_objects as (
        {%- if staging_table is none %}
            {{ current_objects(object_type) }}
        {%- else %}
            select *
            from {{ source('raw', 'objects') }} as landed
            where
                object_type = '{{ object_type }}'
                and not exists (
                    select 1
                    from {{ ref(staging_table) }} as staged
                    where staged.object_seq = landed.object_seq
                )
        {%- endif %}
    ),

    {{ object_type }}_checked as (
        select
            data_source_uuid,
            object_type,
            external_id as object_key,
            case
                when object_type = 'customer' then external_id
                else {{ json_field('body', 'customer_external_id') }}
            end as customer_external_id,
            invoice_external_id,
            object_seq,
            load_id,
            {{ unreadable_fields(object_type, read_body_field) }} as unreadable_fields
        from {{ object_type }}_objects
    ),

{% endfor %}

final as (
    {%- for object_type in staged %}
        select * from {{ object_type }}_checked
        where unreadable_fields is not null
        {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select * from final
