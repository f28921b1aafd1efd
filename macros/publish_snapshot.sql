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

{#- What the build tells the code that writes the snapshot (src/mrr_warehouse/published.py). -#}
{% macro snapshot_request(sources) -%}
    {{ return({
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
    }) }}
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
    {%- set request = snapshot_request(sources) -%}
    {#- dbt-duckdb hands this to the plugin mrr_warehouse.dbt_plugin (profiles.yml), which writes the file. -#}
    {%- do adapter.store_relation(
        'dbt_plugin', api.Relation.create(identifier='build_info'), [], '', 'duckdb', request
    ) -%}
    {{ return('') }}
{%- endmacro %}

{#- Spark (docs/decisions.md D44): Spark writes each mart as Parquet, and the request as text, into an export
    folder ($MRR_WAREHOUSE_SPARK_DIR/publish/<invocation_id>); our Python code then turns the folder into the
    DuckDB snapshot (src/mrr_warehouse/spark_publish.py), with the same temp-file-and-rename as the duckdb target.
    In session mode Spark runs on this machine, and one query starts that code: Spark SQL's script transform,
    whose child process reads the folder's path on stdin (scripts/spark_publish.sh finds the Python that runs
    dbt). A thrift server runs elsewhere: set $MRR_WAREHOUSE_SPARK_EXPORT to a folder both can reach, and run
    `mrr-warehouse lake publish <folder>/<invocation_id>` after the build, as the log says. -#}
{% macro spark__publish_snapshot(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set marts = snapshot_marts() -%}
    {%- set blockers = snapshot_blockers(results, marts) -%}
    {%- if blockers -%}
        {{ log('publish: skipped, the published snapshot is unchanged: ' ~ (blockers | join('; ')), info=True) }}
        {{ return('') }}
    {%- endif -%}
    {%- set export = env_var('MRR_WAREHOUSE_SPARK_EXPORT', spark_folder() ~ '/publish').rstrip('/')
                     ~ '/' ~ invocation_id -%}
    {%- set sources = [] -%}
    {%- for mart in marts -%}
        {%- do run_query(
            "insert overwrite directory '" ~ export ~ "/" ~ mart.alias ~ "' using parquet select * from "
            ~ mart.schema ~ "." ~ mart.alias
        ) -%}
        {%- set columns = {} -%}
        {%- for column in mart.columns.values() if column.description -%}
            {%- do columns.update({column.name: column.description}) -%}
        {%- endfor -%}
        {%- do sources.append({'name': mart.alias, 'description': mart.description, 'columns': columns}) -%}
    {%- endfor -%}
    {%- set request = snapshot_request(sources) -%}
    {#- The files this build's environment names: the JVM (and so the script transform's process) keeps the
        environment of the first build of its session. -#}
    {%- do request.update({
        'lake': lake_path(),
        'warehouse_db': env_var('MRR_WAREHOUSE_DB', 'warehouse.duckdb'),
        'published_db': env_var('MRR_WAREHOUSE_PUBLISHED_DB', warehouse_folder() ~ '/published.duckdb'),
    }) -%}
    {%- do run_query(
        "insert overwrite directory '" ~ export ~ "/request' using text select '"
        ~ spark_string(tojson(request)) ~ "' as request"
    ) -%}
    {%- if env_var('MRR_WAREHOUSE_SPARK_METHOD', 'session') != 'session' -%}
        {{ log('publish: the marts are exported to ' ~ export ~ '; publish them where the snapshot lives with'
               ~ ' `mrr-warehouse lake publish ' ~ export ~ '`', info=True) }}
        {{ return('') }}
    {%- endif -%}
    {%- set script = (invocation_args_dict.get('project_dir') or '.').rstrip('/') ~ '/scripts/spark_publish.sh' -%}
    {%- set said = run_query(
        "select transform(export) using 'bash " ~ spark_string(script) ~ "' as (line string)"
        ~ " from (select '" ~ spark_string(export) ~ "' as export)"
    ) -%}
    {%- for row in said.rows -%}
        {{ log('publish: ' ~ row[0], info=True) }}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{#- Text for a Spark SQL string literal (backslash escapes are on by default). -#}
{% macro spark_string(text) -%}
    {{ return(text | replace('\\', '\\\\') | replace("'", "\\'")) }}
{%- endmacro %}

{% macro default__publish_snapshot(results) -%}
    {{ log('publish: not implemented for the ' ~ adapter.type() ~ ' adapter; the published snapshot is unchanged',
           info=True) }}
    {{ return('') }}
{%- endmacro %}
