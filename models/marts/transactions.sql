{#- Grain: one row per transaction up to the as-of date (SPEC 5): cash in the reporting currency at the
    transaction date's rate, for the customer it reports as. Incremental by customer (D47). -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_build_scope('customer_uuid') }}",
) }}
-- depends_on: {{ ref('int_build_scope') }}

with

transactions as (
    select * from {{ ref('stg_transactions') }}
),

invoices as (
    select * from {{ ref('stg_invoices') }}
),

invoice_totals as (
    select * from {{ ref('int_invoice_totals') }}
),

exchange_rates as (
    select * from {{ ref('int_exchange_rates_daily') }}
),

identities as (
    select * from {{ ref('int_customer_identities') }}
),

transaction_amounts as (
    select
        transactions.*,
        invoices.invoice_uuid,
        -- a merged customer's transactions count for the survivor (SPEC 8)
        identities.reporting_customer_uuid as customer_uuid,
        identities.reporting_customer_external_id as customer_external_id,
        invoices.currency,
        -- A transaction without an amount pays (or refunds) the invoice total (SPEC 5).
        transactions.amount_in_cents is null as is_invoice_total,
        coalesce(transactions.amount_in_cents, invoice_totals.total_in_cents) as native_amount_in_cents,
        case
            when invoice_totals.total_in_cents <> 0
                then cast(invoice_totals.one_time_total_in_cents as double) / invoice_totals.total_in_cents
            else 0
        end as one_time_share,
        -- Cash converts at the transaction date (SPEC 6).
        {{ exchange_rate('invoices.currency', 'exchange_rates.to_reporting_rate') }} as exchange_rate
    from transactions
    inner join invoices
        on
            transactions.data_source_uuid = invoices.data_source_uuid
            and transactions.invoice_external_id = invoices.invoice_external_id
    left join invoice_totals
        on
            transactions.data_source_uuid = invoice_totals.data_source_uuid
            and transactions.invoice_external_id = invoice_totals.invoice_external_id
    left join exchange_rates
        on
            invoices.currency = exchange_rates.currency
            and cast(transactions.transacted_at as date) = exchange_rates.rate_date
    inner join identities
        on
            invoices.data_source_uuid = identities.data_source_uuid
            and invoices.customer_external_id = identities.customer_external_id
    where
        transactions.transacted_at < {{ reporting_cutoff_at() }}
        and {{ customer_uuid_in_build_scope('identities.reporting_customer_uuid') }}
),

final as (
    select
        transaction_uuid,
        transaction_external_id,
        data_source_uuid,
        customer_uuid,
        customer_external_id,
        invoice_uuid,
        invoice_external_id,
        transacted_at,
        cast({{ dbt.date_trunc('month', 'transacted_at') }} as date) as transaction_month,
        transaction_type,
        transaction_result,
        is_invoice_total,
        currency,
        native_amount_in_cents,
        exchange_rate,
        -- Reporting currency from here on; the one-time part is pro rata to the invoice's lines.
        cast(native_amount_in_cents * exchange_rate as {{ type_mrr() }}) as amount_in_cents,
        cast(native_amount_in_cents * exchange_rate * one_time_share as {{ type_mrr() }})
            as non_recurring_amount_in_cents,
        load_id
    from transaction_amounts
)

select * from final
