#!/usr/bin/env bash
# Started by Spark's script transform at the end of a successful `dbt build --target spark` in session mode
# (macros/publish_snapshot.sql, docs/decisions.md D44): reads the export folder's path on stdin and publishes it
# with the Python that runs dbt, which has mrr_warehouse installed. Spark's JVM was started by that Python
# (pyspark), so it is found among this script's ancestors; $MRR_WAREHOUSE_PYTHON names another.
set -euo pipefail
IFS= read -r export_dir
candidates=()
if [ -n "${MRR_WAREHOUSE_PYTHON:-}" ]; then candidates+=("$MRR_WAREHOUSE_PYTHON"); fi
pid=$PPID
for _ in 1 2 3 4; do
    [ -r "/proc/$pid/cmdline" ] || break
    program=$(tr '\0' '\n' < "/proc/$pid/cmdline" | head -n 1)
    case "$(basename -- "$program")" in python*) candidates+=("$program") ;; esac
    pid=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null || echo 1)
    [ "$pid" -gt 1 ] || break
done
candidates+=("$(dirname -- "$0")/../.venv/bin/python" python3)
for python in "${candidates[@]}"; do
    if "$python" -c 'import mrr_warehouse.spark_publish' >/dev/null 2>&1; then
        exec "$python" -m mrr_warehouse.spark_publish "$export_dir"
    fi
done
echo "publish: no Python that can import mrr_warehouse (tried: ${candidates[*]}); set MRR_WAREHOUSE_PYTHON" >&2
exit 1
