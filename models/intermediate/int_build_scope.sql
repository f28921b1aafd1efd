{#- Grain: one row per customer (grain 'customer') and per subscription (grain 'subscription') whose incremental
    rows this build recomputes; or one row of grain 'all' when it recomputes everything (D47). Everything: the
    first build, a change of vars, code, plans or data sources (settings_checksum), or an as-of date earlier than
    the last build's. Otherwise:
      * subscriptions whose inputs changed, or with a date the as-of move passed (a line's start, end or
        cancellation, an event, a cancellation request, an auto-churn deadline);
      * customers whose inputs or identity changed, or with a date the as-of move passed (an invoice, a
        transaction, a lead or trial date); with the customers who have lines or events of those subscriptions
        or owned one at the last build; and the customers all of these reported as, now and at the last build.
    The previous build's state is read as it left it: int_build_state and int_subscription_owners are downstream
    of this model, so they are not rebuilt yet. -#}
{%- set previous_state = previous_build_relation('int_build_state') -%}
{%- set previous_owners = previous_build_relation('int_subscription_owners') -%}
{%- set previous_auto_churns = previous_build_relation('int_subscription_auto_churns') -%}
{#- On Spark and with --full-refresh every incremental model is built in full anyway. -#}
{%- set has_previous_build = previous_state is not none and previous_owners is not none
    and previous_auto_churns is not none and not should_full_refresh() %}
-- depends_on: {{ ref('int_build_inputs') }}
-- depends_on: {{ ref('stg_customers') }}
-- depends_on: {{ ref('stg_invoices') }}
-- depends_on: {{ ref('stg_line_items') }}
-- depends_on: {{ ref('stg_transactions') }}
-- depends_on: {{ ref('stg_subscription_events') }}
-- depends_on: {{ ref('stg_cancellations') }}

with

{% if has_previous_build %}

    current_inputs as (
        select
            *,
            coalesce(customer_external_id, subscription_external_id) as external_id
        from {{ ref('int_build_inputs') }}
    ),

    previous_inputs as (
        select
            *,
            coalesce(customer_external_id, subscription_external_id) as external_id
        from {{ previous_state }}
    ),

    build as (
        select
            coalesce(
                (select max(settings_checksum) from previous_inputs)
                <> (select max(settings_checksum) from current_inputs),
                true
            )
            or coalesce((select max(as_of_date) from previous_inputs) > {{ as_of_date() }}, true) as is_full,
            cast(
                {{ dbt.dateadd('day', 1, '(select max(as_of_date) from previous_inputs)') }}
                as {{ dbt.type_timestamp() }}
            ) as passed_from_at,
            {{ reporting_cutoff_at() }} as passed_until_at
    ),

    changed as (
        select
            coalesce(current_inputs.grain, previous_inputs.grain) as grain,
            coalesce(current_inputs.data_source_uuid, previous_inputs.data_source_uuid) as data_source_uuid,
            coalesce(current_inputs.external_id, previous_inputs.external_id) as external_id
        from current_inputs
        full outer join previous_inputs
            on
                current_inputs.grain = previous_inputs.grain
                and current_inputs.data_source_uuid = previous_inputs.data_source_uuid
                and current_inputs.external_id = previous_inputs.external_id
        where
            current_inputs.input_rows is distinct from previous_inputs.input_rows
            or current_inputs.input_checksum is distinct from previous_inputs.input_checksum
            or current_inputs.reporting_customer_uuid is distinct from previous_inputs.reporting_customer_uuid
    ),

    invoices as (
        select * from {{ ref('stg_invoices') }}
    ),

    -- Every date an as-of filter compares, of the subscription or customer it belongs to.
    dates as (
        select
            'subscription' as grain,
            data_source_uuid,
            subscription_external_id as external_id,
            service_period_start_at as dated_at,
            service_period_end_at as second_dated_at,
            cancelled_at as third_dated_at
        from {{ ref('stg_line_items') }}
        union all
        select
            'subscription' as grain,
            data_source_uuid,
            subscription_external_id as external_id,
            effective_at as dated_at,
            event_at as second_dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as third_dated_at
        from {{ ref('stg_subscription_events') }}
        union all
        select
            'customer' as grain,
            data_source_uuid,
            customer_external_id as external_id,
            effective_at as dated_at,
            event_at as second_dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as third_dated_at
        from {{ ref('stg_subscription_events') }}
        union all
        select
            'subscription' as grain,
            data_source_uuid,
            subscription_external_id as external_id,
            cancelled_at as dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as second_dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as third_dated_at
        from {{ ref('stg_cancellations') }}
        union all
        select
            'subscription' as grain,
            data_source_uuid,
            subscription_external_id as external_id,
            changed_at as dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as second_dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as third_dated_at
        from {{ previous_auto_churns }}
        union all
        select
            'customer' as grain,
            data_source_uuid,
            customer_external_id as external_id,
            invoiced_at as dated_at,
            due_at as second_dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as third_dated_at
        from invoices
        union all
        select
            'customer' as grain,
            invoices.data_source_uuid,
            invoices.customer_external_id as external_id,
            transactions.transacted_at as dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as second_dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as third_dated_at
        from {{ ref('stg_transactions') }} as transactions
        inner join invoices
            on
                transactions.data_source_uuid = invoices.data_source_uuid
                and transactions.invoice_external_id = invoices.invoice_external_id
        union all
        select
            'customer' as grain,
            data_source_uuid,
            customer_external_id as external_id,
            lead_created_at as dated_at,
            free_trial_started_at as second_dated_at,
            cast(null as {{ dbt.type_timestamp() }}) as third_dated_at
        from {{ ref('stg_customers') }}
    ),

    passed as (
        select distinct
            dates.grain,
            dates.data_source_uuid,
            dates.external_id
        from dates
        cross join build
        where
            (dates.dated_at >= build.passed_from_at and dates.dated_at < build.passed_until_at)
            or (dates.second_dated_at >= build.passed_from_at and dates.second_dated_at < build.passed_until_at)
            or (dates.third_dated_at >= build.passed_from_at and dates.third_dated_at < build.passed_until_at)
    ),

    direct as (
        select * from changed
        union
        select * from passed
    ),

    subscriptions as (
        select
            data_source_uuid,
            external_id as subscription_external_id
        from direct
        where grain = 'subscription'
    ),

    -- The customers of those subscriptions: with a line or an event of one now, or its owner at the last build.
    subscription_customers as (
        select
            invoices.data_source_uuid,
            invoices.customer_external_id
        from {{ ref('stg_line_items') }} as line_items
        inner join invoices
            on
                line_items.data_source_uuid = invoices.data_source_uuid
                and line_items.invoice_external_id = invoices.invoice_external_id
        inner join subscriptions
            on
                line_items.data_source_uuid = subscriptions.data_source_uuid
                and line_items.subscription_external_id = subscriptions.subscription_external_id
        union
        select
            events.data_source_uuid,
            events.customer_external_id
        from {{ ref('stg_subscription_events') }} as events
        inner join subscriptions
            on
                events.data_source_uuid = subscriptions.data_source_uuid
                and events.subscription_external_id = subscriptions.subscription_external_id
        union
        select
            owners.data_source_uuid,
            owners.customer_external_id
        from {{ previous_owners }} as owners
        inner join subscriptions
            on
                owners.data_source_uuid = subscriptions.data_source_uuid
                and owners.subscription_external_id = subscriptions.subscription_external_id
    ),

    customers as (
        select
            data_source_uuid,
            external_id as customer_external_id
        from direct
        where grain = 'customer'
        union
        select
            data_source_uuid,
            customer_external_id
        from subscription_customers
    ),

    -- Customer-level rows live under the customer a customer reports as (after merges).
    reporting_customers as (
        select
            inputs.reporting_data_source_uuid as data_source_uuid,
            inputs.reporting_customer_external_id as customer_external_id
        from customers
        inner join (
            select
                grain,
                data_source_uuid,
                external_id,
                reporting_data_source_uuid,
                reporting_customer_external_id
            from current_inputs
            union all
            select
                grain,
                data_source_uuid,
                external_id,
                reporting_data_source_uuid,
                reporting_customer_external_id
            from previous_inputs
        ) as inputs
            on
                inputs.grain = 'customer'
                and customers.data_source_uuid = inputs.data_source_uuid
                and customers.customer_external_id = inputs.external_id
    ),

    scoped as (
        select
            'subscription' as grain,
            data_source_uuid,
            subscription_external_id as external_id
        from subscriptions
        union
        select
            'customer' as grain,
            data_source_uuid,
            customer_external_id as external_id
        from customers
        union
        select
            'customer' as grain,
            data_source_uuid,
            customer_external_id as external_id
        from reporting_customers
    ),

    final as (
        select
            'all' as grain,
            cast(null as {{ dbt.type_string() }}) as data_source_uuid,
            cast(null as {{ dbt.type_string() }}) as customer_external_id,
            cast(null as {{ dbt.type_string() }}) as subscription_external_id,
            cast(null as {{ dbt.type_string() }}) as customer_uuid
        from build
        where is_full
        union all
        select
            scoped.grain,
            scoped.data_source_uuid,
            case when scoped.grain = 'customer' then scoped.external_id end as customer_external_id,
            case when scoped.grain = 'subscription' then scoped.external_id end as subscription_external_id,
            case
                when scoped.grain = 'customer'
                    then {{ deterministic_uuid('cus', ['scoped.data_source_uuid', "'customer'", 'scoped.external_id']) }}
            end as customer_uuid
        from scoped
        cross join build
        where not build.is_full
    )

{% else %}

    final as (
        select
            'all' as grain,
            cast(null as {{ dbt.type_string() }}) as data_source_uuid,
            cast(null as {{ dbt.type_string() }}) as customer_external_id,
            cast(null as {{ dbt.type_string() }}) as subscription_external_id,
            cast(null as {{ dbt.type_string() }}) as customer_uuid
    )

{% endif %}

select * from final
