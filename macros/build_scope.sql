{#- Incremental MRR (docs/decisions.md D47). The models from the normalised lines to the MRR marts are incremental:
    a build recomputes the rows of the customers and subscriptions in the build scope (int_build_scope) and leaves
    every other row as it is. Each such model
      * deletes its rows in the scope before it runs (pre-hook delete_build_scope), and
      * reads only the scope's inputs (select_in_build_scope, or in_build_scope on the CTE its rows come from),
    and names the scope model in a `-- depends_on:` comment, because dbt does not see a ref inside is_incremental().
    A first build, `--full-refresh` and Spark (always in full) read everything: the filters render `true`. -#}

{#- Whether this build recomputes everything (a scope row of grain 'all'). Asked once the scope is built, so
    that the predicates below are either `true` or a plain semi-join: an `all or <semi-join>` predicate made DuckDB
    join every row before filtering (int_line_items_normalized at 1M: 14.2 s instead of 2.7 s). -#}
{% macro build_scope_is_all() -%}
    {%- set scope = ref('int_build_scope') -%}
    {%- if execute and adapter.get_relation(scope.database, scope.schema, scope.identifier) is not none -%}
        {%- set found = run_query("select count(*) from " ~ scope ~ " where grain = 'all'") -%}
        {{ return(found.columns[0].values()[0] > 0) }}
    {%- endif -%}
    {{ return(execute) }}
{%- endmacro %}

{#- A predicate: the row is in the scope. grain: 'customer' or 'subscription'; data_source_uuid, external_id: SQL
    expressions naming the row's customer or subscription. -#}
{% macro in_build_scope(grain, data_source_uuid, external_id) -%}
    {%- if not is_incremental() or build_scope_is_all() -%}
        true
    {%- else -%}
        exists (
            select 1
            from {{ ref('int_build_scope') }} as build_scope
            where
                build_scope.grain = '{{ grain }}'
                and build_scope.data_source_uuid = {{ data_source_uuid }}
                and build_scope.{{ grain }}_external_id = {{ external_id }}
        )
    {%- endif -%}
{%- endmacro %}

{#- The same for a customer named by its customer_uuid (the marts' key). -#}
{% macro customer_uuid_in_build_scope(customer_uuid) -%}
    {%- if not is_incremental() or build_scope_is_all() -%}
        true
    {%- else -%}
        {{ customer_uuid }} in (
            select build_scope.customer_uuid
            from {{ ref('int_build_scope') }} as build_scope
            where build_scope.grain = 'customer'
        )
    {%- endif -%}
{%- endmacro %}

{#- A CTE body: the rows of `model_name` in the scope, by the model's data_source_uuid and <grain>_external_id. -#}
{% macro select_in_build_scope(model_name, grain) -%}
    select * from {{ ref(model_name) }}
    {%- if is_incremental() %} as scoped_rows
        where {{ in_build_scope(grain, 'scoped_rows.data_source_uuid', 'scoped_rows.' ~ grain ~ '_external_id') }}
    {%- endif %}
{%- endmacro %}

{#- Pre-hook: drop the model's rows in the scope, by data_source_uuid and <grain>_external_id, or by customer_uuid
    (grain 'customer_uuid'). -#}
{% macro delete_build_scope(grain) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as built where
        {%- if grain == 'customer_uuid' %} {{ customer_uuid_in_build_scope('built.customer_uuid') }}
        {%- else %} {{ in_build_scope(grain, 'built.data_source_uuid', 'built.' ~ grain ~ '_external_id') }}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}

{#- A relation this build reads as the previous build left it (a table the scope itself is upstream of), or none
    before the first build. -#}
{% macro previous_build_relation(identifier) -%}
    {{ return(adapter.get_relation(database=this.database, schema=this.schema, identifier=identifier)) }}
{%- endmacro %}

{#- What, besides the landed data, decides every incremental row: the project's vars except the as-of date, and the
    code of every model and seed (so an upgrade or an edited seed rebuilds everything once). -#}
{% macro build_settings_checksum() -%}
    {%- set parts = [] -%}
    {%- for name in _var_checks() | sort if name != 'as_of_date' -%}
        {%- do parts.append(name ~ '=' ~ tojson(project_var(name))) -%}
    {%- endfor -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id')
            if node.resource_type in ('model', 'seed') and node.package_name == project_name -%}
            {%- do parts.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(local_md5(parts | join(';'))) }}
{%- endmacro %}
