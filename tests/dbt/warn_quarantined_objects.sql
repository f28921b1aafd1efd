{{ config(severity='warn') }}
-- Landed objects that staging could not read and set aside (stg_quarantined_objects): the build goes on without
-- them. Fix or delete the object, or re-sync its data source, and the warning goes away.
select
    data_source_uuid,
    object_type,
    object_key,
    unreadable_fields
from {{ ref('stg_quarantined_objects') }}
