with

-- Customers take the newest version (last load wins, SPEC 2).
objects as (
    {{ current_objects('customer') }}
),

final as (
    select
        {{ deterministic_uuid('cus', ['data_source_uuid', "'customer'", 'external_id']) }} as customer_uuid,
        data_source_uuid,
        external_id as customer_external_id,
        {{ json_field('body', 'name') }} as customer_name,
        {{ json_field('body', 'email') }} as email,
        {{ json_field('body', 'company') }} as company,
        {{ json_field('body', 'country') }} as country,
        {{ json_field('body', 'state') }} as state,
        {{ json_field('body', 'city') }} as city,
        {{ json_field('body', 'zip') }} as zip,
        {{ json_field('body', 'owner') }} as owner,
        {{ json_field('body', 'website_url') }} as website_url,
        {{ parse_timestamp(json_field('body', 'lead_created_at')) }} as lead_created_at,
        {{ parse_timestamp(json_field('body', 'free_trial_started_at')) }} as free_trial_started_at,
        {{ json_value('body', 'attributes') }} as attributes,
        load_id,
        object_seq
    from objects
)

select * from final
