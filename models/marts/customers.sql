with

customers as (
    select * from {{ ref('stg_customers') }}
),

subscriptions as (
    select * from {{ ref('subscriptions') }}
),

tags as (
    select * from {{ ref('int_customer_tags') }}
),

contacts as (
    select * from {{ ref('contacts') }}
),

customer_tags as (
    select
        customer_uuid,
        {{ array_agg_sorted("tag") }} as tags
    from tags
    group by customer_uuid
),

customer_contacts as (
    select
        data_source_uuid,
        customer_external_id,
        count(*) as contacts_count
    from contacts
    group by data_source_uuid, customer_external_id
),

identities as (
    select * from {{ ref('int_customer_identities') }}
),

subscription_summary as (
    select
        customer_data_source_uuid as data_source_uuid,
        customer_external_id,
        min(started_at) as customer_since,
        sum(mrr_in_cents) as mrr_in_cents,
        max(case when status = 'past_due' then 1 else 0 end) = 1 as has_past_due_subscription,
        max(case when status = 'active' then 1 else 0 end) = 1 as has_active_subscription,
        max(case when status = 'cancelled' then 1 else 0 end) = 1 as has_cancelled_subscription
    from subscriptions
    group by customer_data_source_uuid, customer_external_id
),

final as (
    select
        customers.customer_uuid,
        customers.data_source_uuid,
        customers.customer_external_id,
        customers.customer_name,
        customers.email,
        customers.company,
        customers.country,
        customers.state,
        customers.city,
        customers.zip,
        customers.lead_created_at,
        customers.free_trial_started_at,
        subscription_summary.customer_since,
        -- Status precedence at the as-of date (SPEC 7).
        case
            when subscription_summary.has_past_due_subscription then 'past_due'
            when subscription_summary.has_active_subscription then 'active'
            when subscription_summary.has_cancelled_subscription then 'cancelled'
            when customers.free_trial_started_at < {{ reporting_cutoff_at() }} then 'trial'
            else 'lead'
        end as status,
        coalesce(subscription_summary.mrr_in_cents, 0) as mrr_in_cents,
        coalesce(customer_tags.tags, {{ empty_array() }}) as tags,
        -- typed values per key are in customer_attributes
        {{ json_value('customers.attributes', 'custom') }} as custom_attributes,
        coalesce(customer_contacts.contacts_count, 0) as contacts_count
    from customers
    left join subscription_summary
        on
            customers.data_source_uuid = subscription_summary.data_source_uuid
            and customers.customer_external_id = subscription_summary.customer_external_id
    left join customer_tags
        on customers.customer_uuid = customer_tags.customer_uuid
    left join customer_contacts
        on
            customers.data_source_uuid = customer_contacts.data_source_uuid
            and customers.customer_external_id = customer_contacts.customer_external_id
    -- a merged customer lives on in the customer it was merged into (SPEC 8)
    inner join identities
        on
            customers.data_source_uuid = identities.data_source_uuid
            and customers.customer_external_id = identities.customer_external_id
    where not identities.is_merged
)

select * from final
