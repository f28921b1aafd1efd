with

contacts as (
    select * from {{ ref('stg_contacts') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

identities as (
    select * from {{ ref('int_customer_identities') }}
),

-- Contacts live on their customer's record; customer and contact come from the same data source (SPEC 7). A merged
-- customer's contacts move to the survivor (SPEC 8).
final as (
    select
        {{ deterministic_uuid('con', ['contacts.data_source_uuid', "'contact'", 'contacts.contact_key']) }}
            as contact_uuid,
        identities.reporting_customer_uuid as customer_uuid,
        identities.reporting_customer_external_id as customer_external_id,
        identities.reporting_data_source_uuid as data_source_uuid,
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
    inner join identities
        on
            contacts.data_source_uuid = identities.data_source_uuid
            and contacts.customer_external_id = identities.customer_external_id
)

select * from final
