with

objects as (
    select * from {{ source('raw', 'objects') }}
    where object_type = 'plan'
),

-- Plans take the newest version (last load wins, SPEC 2).
versions as (
    select
        *,
        row_number() over (
            partition by data_source_uuid, external_id order by object_seq desc
        ) as version_rank
    from objects
),

final as (
    select
        {{ deterministic_uuid('pl', ['data_source_uuid', "'plan'", 'external_id']) }} as plan_uuid,
        data_source_uuid,
        external_id as plan_external_id,
        {{ json_field('body', 'name') }} as plan_name,
        cast({{ json_field('body', 'interval_count') }} as integer) as interval_count,
        {{ json_field('body', 'interval_unit') }} as interval_unit,
        load_id,
        object_seq
    from versions
    where version_rank = 1
)

select * from final
