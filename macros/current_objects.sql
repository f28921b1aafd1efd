{#- The landed objects of one type that may be re-sent with changes (customers, plans, contacts, events), one
    version per identity (data source, external_id): the newest (last load wins, SPEC 2). -#}
{% macro current_objects(object_type) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by data_source_uuid, external_id
                order by object_seq desc
            ) as version_rank
        from {{ source('raw', 'objects') }}
        where object_type = '{{ object_type }}'
    ) as versions
    where version_rank = 1
{%- endmacro %}

{#- The landed objects of an immutable type (invoices, line items, transactions): the loader lands an identity
    once and rejects a changed one, so every row is current. Their staging models are incremental tables: an
    incremental run parses only the objects not parsed before, after prune_replaced_objects has removed the rows
    of those that are gone since (see docs/decisions.md D29). -#}
{% macro immutable_objects(object_type) -%}
    select *
    from {{ source('raw', 'objects') }} as objects
    where
        object_type = '{{ object_type }}'
        {%- if is_incremental() %}
            and not exists (
                select 1
                from {{ this }} as parsed
                where parsed.object_seq = objects.object_seq
            )
        {%- endif %}
{%- endmacro %}

{#- Pre-hook of the incremental staging models: drop the rows whose landed object is gone (a data source or a
    customer deleted, a re-sync) or moved to another data source. object_seq names one landed version: nothing
    rewrites the body of an invoice, line item or transaction in place (anonymisation touches customers and
    contacts, whose staging models are views); whatever does so must give the row a new object_seq. -#}
{% macro prune_replaced_objects(object_type) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as parsed
        where not exists (
            select 1
            from {{ source('raw', 'objects') }} as objects
            where
                objects.object_type = '{{ object_type }}'
                and objects.object_seq = parsed.object_seq
                and objects.data_source_uuid = parsed.data_source_uuid
        )
    {%- endif -%}
{%- endmacro %}
