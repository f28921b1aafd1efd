with

-- Plans take the newest version (last load wins, SPEC 2).
objects as (
    {{ current_objects('plan') }}
),

final as (
    select
        {{ deterministic_uuid('pl', ['data_source_uuid', "'plan'", 'external_id']) }} as plan_uuid,
        data_source_uuid,
        external_id as plan_external_id,
        {{ json_field('body', 'name') }} as plan_name,
        {{ typed_field('plan', 'interval_count', read_body_field) }} as interval_count,
        {{ json_field('body', 'interval_unit') }} as interval_unit,
        load_id,
        object_seq
    from objects
    where {{ unreadable_fields('plan', read_body_field) }} is null
)

select * from final
