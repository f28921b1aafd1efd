{#- The landed objects of one type, one version per identity (data source, external_id): the newest for objects
    that may be re-sent with changes (last load wins, SPEC 2), the first for immutable ones. -#}
{% macro current_objects(object_type, keep='newest') -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by data_source_uuid, external_id
                order by object_seq {{ 'desc' if keep == 'newest' else 'asc' }}
            ) as version_rank
        from {{ source('raw', 'objects') }}
        where object_type = '{{ object_type }}'
    ) as versions
    where version_rank = 1
{%- endmacro %}
