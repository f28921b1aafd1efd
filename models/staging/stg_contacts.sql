with

objects as (
    select * from {{ source('raw', 'objects') }}
    where object_type = 'contact'
),

-- Contacts take the newest version (last load wins, SPEC 2).
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
    from versions
    where version_rank = 1
)

select * from final
