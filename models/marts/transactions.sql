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

final as (
    select
        {{ deterministic_uuid('tr', [
            'transactions.data_source_uuid', "'transaction'", 'transactions.transaction_key'
        ]) }} as transaction_uuid,
        transactions.transaction_external_id,
        transactions.data_source_uuid,
        {{ deterministic_uuid('cus', ['invoices.data_source_uuid', "'customer'", 'invoices.customer_external_id']) }}
            as customer_uuid,
        invoices.customer_external_id,
        invoices.invoice_uuid,
        transactions.invoice_external_id,
        transactions.transacted_at,
        cast({{ dbt.date_trunc('month', 'transactions.transacted_at') }} as date) as transaction_month,
        transactions.transaction_type,
        transactions.transaction_result,
        transactions.amount_in_cents is null as is_invoice_total,
        -- A transaction without an amount pays (or refunds) the invoice total (SPEC 5).
        coalesce(transactions.amount_in_cents, invoice_totals.total_in_cents) as amount_in_cents,
        invoices.currency,
        -- The part that pays one-time lines, pro rata to the invoice's lines.
        cast(case
            when invoice_totals.total_in_cents <> 0
                then
                    coalesce(transactions.amount_in_cents, invoice_totals.total_in_cents)
                    * cast(invoice_totals.one_time_total_in_cents as double) / invoice_totals.total_in_cents
            else 0
        end as {{ type_mrr() }}) as non_recurring_amount_in_cents,
        transactions.load_id
    from transactions
    inner join invoices
        on
            transactions.data_source_uuid = invoices.data_source_uuid
            and transactions.invoice_external_id = invoices.invoice_external_id
    left join invoice_totals
        on
            transactions.data_source_uuid = invoice_totals.data_source_uuid
            and transactions.invoice_external_id = invoice_totals.invoice_external_id
    where transactions.transacted_at < {{ reporting_cutoff_at() }}
)

select * from final
