with

contacts as (
    select * from {{ ref('stg_contacts') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

-- Contacts live on their customer's record; customer and contact come from the same data source (SPEC 7).
final as (
    select
        {{ deterministic_uuid('con', ['contacts.data_source_uuid', "'contact'", 'contacts.contact_key']) }}
            as contact_uuid,
        customers.customer_uuid,
        contacts.customer_external_id,
        contacts.data_source_uuid,
        contacts.first_name,
        contacts.last_name,
        contacts.title,
        contacts.email,
        contacts.phone,
        contacts.contact_position,
        contacts.notes
    from contacts
    inner join customers
        on
            contacts.data_source_uuid = customers.data_source_uuid
            and contacts.customer_external_id = customers.customer_external_id
)

select * from final
