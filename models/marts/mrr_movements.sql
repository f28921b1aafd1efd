{#- Grain: one row per MRR movement (SPEC 4): a change of a customer's MRR with its type, amounts before and after,
    and the source rows that caused it. Incremental by customer (D47). -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_build_scope('customer_uuid') }}",
) }}
-- depends_on: {{ ref('int_build_scope') }}

with

customer_changes as (
    {{ select_in_build_scope('int_customer_mrr_changes', 'customer') }}
),

final as (
    select
        {{ deterministic_uuid('mov', [
            'data_source_uuid', 'customer_external_id', 'subscription_data_source_uuid', 'subscription_external_id',
            'cast(changed_at as ' ~ dbt.type_string() ~ ')'
        ]) }} as movement_id,
        changed_at as movement_at,
        cast({{ dbt.date_trunc('month', 'changed_at') }} as date) as movement_month,
        {{ deterministic_uuid('cus', ['data_source_uuid', "'customer'", 'customer_external_id']) }} as customer_uuid,
        customer_external_id,
        data_source_uuid,
        {{ deterministic_uuid('sub', ['subscription_data_source_uuid', "'subscription'", 'subscription_external_id']) }}
            as subscription_uuid,
        subscription_external_id,
        movement_type,
        mrr_change_in_cents,
        currency,
        native_mrr_change_in_cents,
        exchange_rate,
        customer_mrr_before_in_cents,
        customer_mrr_after_in_cents,
        subscription_mrr_before_in_cents,
        subscription_mrr_after_in_cents,
        -- What caused the change, so every number traces back to source rows.
        cause_type,
        cause_invoice_external_id,
        cause_object_key,
        load_id as cause_load_id
    from customer_changes
    where movement_type is not null
)

select * from final
