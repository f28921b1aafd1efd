{#- The on-run-end hook (dbt_project.yml): publish every mart of this run, the loader's tables and build_info
    into the published snapshot ($MRR_WAREHOUSE_PUBLISHED_DB), or say why not. docs/decisions.md D40.

    A run publishes only when nothing in it errored, failed or was skipped and every mart (each model under
    models/marts, found in the graph) was built by it: a `--select` of some marts would otherwise publish marts
    of two different builds side by side. -#}
{% macro publish_snapshot(results) -%}
    {{ return(adapter.dispatch('publish_snapshot', 'mrr_warehouse')(results)) }}
{%- endmacro %}

{#- The mart models of this project, from the graph (a new mart is published without naming it here). -#}
{% macro snapshot_marts() -%}
    {%- set marts = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
              and node.fqn[1] == 'marts' -%}
            {%- do marts.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(marts | sort(attribute='name')) }}
{%- endmacro %}

{#- Why this run must not publish: a list of reasons, empty when it may. -#}
{% macro snapshot_blockers(results, marts) -%}
    {%- set reasons = [] -%}
    {%- set built = [] -%}
    {%- set broken = [] -%}
    {%- for result in results -%}
        {%- if result.status in ['error', 'fail', 'runtime error', 'skipped'] -%}
            {%- do broken.append(result.node.name ~ ' (' ~ result.status ~ ')') -%}
        {%- elif result.status == 'success' -%}
            {%- do built.append(result.node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if broken -%}
        {%- do reasons.append('not every node succeeded: ' ~ (broken[:5] | join(', '))
                              ~ (' and ' ~ (broken | length - 5) ~ ' more' if broken | length > 5 else '')) -%}
    {%- endif -%}
    {%- set missing = [] -%}
    {%- for mart in marts if mart.unique_id not in built -%}
        {%- do missing.append(mart.name) -%}
    {%- endfor -%}
    {%- if missing -%}
        {%- do reasons.append('marts not built by this run (a full `dbt build` or `dbt run` publishes): '
                              ~ (missing | join(', '))) -%}
    {%- endif -%}
    {%- if not marts -%}
        {%- do reasons.append('no models in models/marts') -%}
    {%- endif -%}
    {{ return(reasons) }}
{%- endmacro %}

{% macro duckdb__publish_snapshot(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set marts = snapshot_marts() -%}
    {%- set blockers = snapshot_blockers(results, marts) -%}
    {%- if blockers -%}
        {{ log('publish: skipped, the published snapshot is unchanged: ' ~ (blockers | join('; ')), info=True) }}
        {{ return('') }}
    {%- endif -%}
    {%- set sources = [] -%}
    {%- for mart in marts -%}
        {%- do sources.append({
            'name': mart.alias, 'database': mart.database, 'schema': mart.schema, 'identifier': mart.alias
        }) -%}
    {%- endfor -%}
    {%- set request = {
        'marts': sources,
        'build': {
            'build_id': invocation_id,
            'command': flags.WHICH,
            'started_at': run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f'),
            'as_of_date': var('as_of_date', none),
            'dbt_version': dbt_version,
        },
        'project_dir': invocation_args_dict.get('project_dir'),
        'cli_vars': invocation_args_dict.get('vars'),
    } -%}
    {#- dbt-duckdb hands this to the plugin mrr_warehouse.dbt_plugin (profiles.yml), which writes the file. -#}
    {%- do adapter.store_relation(
        'dbt_plugin', api.Relation.create(identifier='build_info'), [], '', 'duckdb', request
    ) -%}
    {{ return('') }}
{%- endmacro %}

{% macro default__publish_snapshot(results) -%}
    {{ log('publish: not implemented for the ' ~ adapter.type() ~ ' adapter; the published snapshot is unchanged',
           info=True) }}
    {{ return('') }}
{%- endmacro %}
