{#- Grain: one row per customer named in the landed data (int_customer_identities, grain 'customer') and per
    subscription with a line, an event or a cancellation request (grain 'subscription'): what this build's
    incremental models are computed from (D47). input_rows and input_checksum sum the staged rows of the customer
    or subscription by landed version (object_seq, or the merge's or edit's sequence), so a new, re-sent, re-synced
    or deleted object changes them. settings_checksum covers what every row depends on: the vars, the code of the
    models and seeds, plans and data sources. -#}

with

identities as (
    select * from {{ ref('int_customer_identities') }}
),

invoices as (
    select * from {{ ref('stg_invoices') }}
),

subscription_events as (
    select * from {{ ref('stg_subscription_events') }}
),

customer_merges as (
    select * from {{ ref('stg_customer_merges') }}
),

line_customers as (
    select
        invoices.data_source_uuid,
        invoices.customer_external_id,
        line_items.subscription_external_id,
        line_items.object_seq
    from {{ ref('stg_line_items') }} as line_items
    inner join invoices
        on
            line_items.data_source_uuid = invoices.data_source_uuid
            and line_items.invoice_external_id = invoices.invoice_external_id
),

customer_rows as (
    select
        data_source_uuid,
        customer_external_id,
        'customer' as row_kind,
        object_seq as row_version
    from {{ ref('stg_customers') }}
    union all
    select
        data_source_uuid,
        customer_external_id,
        'invoice' as row_kind,
        object_seq as row_version
    from invoices
    union all
    select
        data_source_uuid,
        customer_external_id,
        'line_item' as row_kind,
        object_seq as row_version
    from line_customers
    union all
    select
        staged_transactions.data_source_uuid,
        invoices.customer_external_id,
        'transaction' as row_kind,
        staged_transactions.object_seq as row_version
    from {{ ref('stg_transactions') }} as staged_transactions
    inner join invoices
        on
            staged_transactions.data_source_uuid = invoices.data_source_uuid
            and staged_transactions.invoice_external_id = invoices.invoice_external_id
    union all
    select
        data_source_uuid,
        customer_external_id,
        'subscription_event' as row_kind,
        object_seq as row_version
    from subscription_events
    union all
    select
        data_source_uuid,
        customer_external_id,
        'merge' as row_kind,
        merge_seq as row_version
    from customer_merges
    union all
    select
        into_data_source_uuid as data_source_uuid,
        into_customer_external_id as customer_external_id,
        'merge' as row_kind,
        merge_seq as row_version
    from customer_merges
    union all
    select
        data_source_uuid,
        customer_external_id,
        'contact' as row_kind,
        object_seq as row_version
    from {{ ref('stg_contacts') }}
    union all
    select
        data_source_uuid,
        customer_external_id,
        'manual_edit' as row_kind,
        edit_seq as row_version
    from {{ ref('stg_manual_edits') }}
),

-- A subscription's own inputs: its lines (whoever's invoice they are on), events and cancellation requests.
subscription_rows as (
    select
        data_source_uuid,
        subscription_external_id,
        'line_item' as row_kind,
        object_seq as row_version
    from line_customers
    union all
    select
        data_source_uuid,
        subscription_external_id,
        'subscription_event' as row_kind,
        object_seq as row_version
    from subscription_events
    union all
    select
        data_source_uuid,
        subscription_external_id,
        'cancellation' as row_kind,
        object_seq as row_version
    from {{ ref('stg_cancellations') }}
),

input_versions as (
    select
        'customer' as grain,
        data_source_uuid,
        customer_external_id as external_id,
        count(*) as input_rows,
        sum(hash(row_kind, row_version)) as input_checksum
    from customer_rows
    group by data_source_uuid, customer_external_id
    union all
    select
        'subscription' as grain,
        data_source_uuid,
        subscription_external_id as external_id,
        count(*) as input_rows,
        sum(hash(row_kind, row_version)) as input_checksum
    from subscription_rows
    where subscription_external_id is not null
    group by data_source_uuid, subscription_external_id
),

plan_settings as (
    select
        cast(count(*) as {{ dbt.type_string() }}) || ':'
        || coalesce(cast(sum(hash(data_source_uuid, plan_external_id, object_seq)) as {{ dbt.type_string() }}), '')
            as plans_checksum
    from {{ ref('stg_plans') }}
),

data_source_settings as (
    select
        cast(count(*) as {{ dbt.type_string() }}) || ':'
        || coalesce(cast(sum(hash(
            data_source_uuid, is_auto_churn_enabled, auto_churn_interval_days, is_including_deleted_customers
        )) as {{ dbt.type_string() }}), '') as data_sources_checksum
    from {{ ref('stg_data_sources') }}
),

keyed as (
    select
        'customer' as grain,
        data_source_uuid,
        customer_external_id as external_id,
        reporting_data_source_uuid,
        reporting_customer_external_id,
        reporting_customer_uuid
    from identities
    union all
    select
        'subscription' as grain,
        data_source_uuid,
        external_id,
        cast(null as {{ dbt.type_string() }}) as reporting_data_source_uuid,
        cast(null as {{ dbt.type_string() }}) as reporting_customer_external_id,
        cast(null as {{ dbt.type_string() }}) as reporting_customer_uuid
    from input_versions
    where grain = 'subscription'
),

final as (
    select
        keyed.grain,
        keyed.data_source_uuid,
        -- named as everywhere else, so that erasing a customer or its subscriptions finds these rows too
        case when keyed.grain = 'customer' then keyed.external_id end as customer_external_id,
        case when keyed.grain = 'subscription' then keyed.external_id end as subscription_external_id,
        keyed.reporting_data_source_uuid,
        keyed.reporting_customer_external_id,
        keyed.reporting_customer_uuid,
        coalesce(input_versions.input_rows, 0) as input_rows,
        coalesce(cast(input_versions.input_checksum as {{ dbt.type_string() }}), '') as input_checksum,
        '{{ build_settings_checksum() }}:' || plan_settings.plans_checksum || ':'
        || data_source_settings.data_sources_checksum as settings_checksum,
        {{ as_of_date() }} as as_of_date
    from keyed
    left join input_versions
        on
            keyed.grain = input_versions.grain
            and keyed.data_source_uuid = input_versions.data_source_uuid
            and keyed.external_id = input_versions.external_id
    cross join plan_settings
    cross join data_source_settings
)

select * from final
