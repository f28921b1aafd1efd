{%- set fields = [
    'name', 'email', 'company', 'country', 'state', 'city', 'zip', 'owner', 'website_url', 'lead_created_at',
    'free_trial_started_at',
] %}

with

-- Customers take the newest version (last load wins, SPEC 2).
objects as (
    {{ current_objects('customer') }}
),

parsed as (
    select
        *,
        {{ json_record('body', fields) }} as body_fields
    from objects
),

final as (
    select
        {{ deterministic_uuid('cus', ['data_source_uuid', "'customer'", 'external_id']) }} as customer_uuid,
        data_source_uuid,
        external_id as customer_external_id,
        {{ json_record_field('body_fields', 'name') }} as customer_name,
        {{ json_record_field('body_fields', 'email') }} as email,
        {{ json_record_field('body_fields', 'company') }} as company,
        {{ json_record_field('body_fields', 'country') }} as country,
        {{ json_record_field('body_fields', 'state') }} as state,
        {{ json_record_field('body_fields', 'city') }} as city,
        {{ json_record_field('body_fields', 'zip') }} as zip,
        {{ json_record_field('body_fields', 'owner') }} as owner,
        {{ json_record_field('body_fields', 'website_url') }} as website_url,
        {{ typed_field('customer', 'lead_created_at', read_record_field) }} as lead_created_at,
        {{ typed_field('customer', 'free_trial_started_at', read_record_field) }} as free_trial_started_at,
        {{ json_value('body', 'attributes') }} as attributes,
        load_id,
        object_seq
    from parsed
    where {{ unreadable_fields('customer', read_record_field) }} is null
)

select * from final
