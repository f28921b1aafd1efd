with

-- Contacts take the newest version (last load wins, SPEC 2).
objects as (
    {{ current_objects('contact') }}
),

final as (
    select
        data_source_uuid,
        external_id as contact_key,
        {{ json_field('body', 'customer_external_id') }} as customer_external_id,
        {{ json_field('body', 'first_name') }} as first_name,
        {{ json_field('body', 'last_name') }} as last_name,
        {{ json_field('body', 'title') }} as title,
        {{ json_field('body', 'email') }} as email,
        {{ json_field('body', 'phone') }} as phone,
        {{ json_field('body', 'position') }} as contact_position,
        {{ json_field('body', 'notes') }} as notes,
        load_id,
        object_seq
    from objects
)

select * from final
