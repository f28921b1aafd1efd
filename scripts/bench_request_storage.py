"""How the storage of verbatim request bodies behaves at checkpoints (issue #14 item 1, docs/decisions.md D48).

Lands N large request bodies one load at a time into a fresh DuckDB file, each in its own transaction followed
by a checkpoint, and reports per load the seconds of the insert (with its commit) and of the checkpoint, the
total, the database file's size and the peak RSS. Each storage variant runs in its own process (so each has its
own peak RSS):

    rows     one row per request with the whole body (raw.requests as it was before D48), inserted the way
             landing.insert_request does for a large single-request file (read_text)
    chunks   the body cut into pieces of --chunk-bytes, one row per piece (a request_chunks table)
    per-load one table per load holding its requests
    current  whatever landing.py does now (landing.connect + landing.insert_request), to check the change

The bodies are real generated bulk requests (default /tmp/b100k2/data/*_bulk.json, ~65 MB each; make them with
`mrr-warehouse generate`), used in turn when N exceeds their number.

    .venv/bin/python scripts/bench_request_storage.py --files 20 --variants rows,chunks,current
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = Path("/tmp/b100k2/data")
STORAGE_COMPATIBILITY = "v1.5.0"  # as landing.CONNECT_CONFIG


def _split_utf8(data: bytes, size: int) -> list[str]:
    """Pieces of at most `size` bytes, cut at character boundaries."""
    pieces = []
    start = 0
    while start < len(data):
        end = min(start + size, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        pieces.append(data[start:end].decode())
        start = end
    return pieces


def _worker(variant: str, database: Path, files: list[Path], chunk_bytes: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "src"))
    if variant == "current":
        from mrr_warehouse import landing

        con = landing.connect(str(database))
    else:
        con = duckdb.connect(str(database), config={"storage_compatibility_version": STORAGE_COMPATIBILITY})
        con.execute("set checkpoint_threshold = '1GB'")  # only the explicit checkpoints below
        con.execute("create schema raw")
        if variant == "rows":
            con.execute(
                "create table raw.requests (load_id varchar not null, request_index integer not null,"
                " data_source_uuid varchar not null, file varchar not null, content_hash varchar not null,"
                " body json not null, loaded_at timestamp not null)"
            )
        elif variant == "chunks":
            con.execute(
                "create table raw.request_chunks (load_id varchar not null, request_index integer not null,"
                " chunk_index integer not null, chunk varchar not null)"
            )
    steps = []
    for number, path in enumerate(files):
        load_id = f"load-{number:04d}"
        started = time.perf_counter()
        con.execute("begin transaction")
        if variant == "current":
            from mrr_warehouse import landing

            landing.insert_request(
                con,
                load_id=load_id,
                request_index=0,
                data_source_uuid="ds",
                file=path.name,
                path=path,
                content_hash=f"hash-{number}",
                text=None,
                loaded_at=landing.utcnow(),
            )
        elif variant == "rows":
            con.execute(
                "insert into raw.requests select ?, 0, 'ds', ?, ?, content, now() from read_text(?)",
                [load_id, path.name, f"hash-{number}", str(path)],
            ).fetchall()
        elif variant == "per-load":
            table = f'raw."requests_{load_id}"'
            con.execute(
                f"create table {table} as select ? as load_id, 0 as request_index, content::json as body"
                " from read_text(?)",
                [load_id, str(path)],
            ).fetchall()
        elif variant == "chunks":
            pieces = _split_utf8(path.read_bytes(), chunk_bytes)
            con.execute(
                "insert into raw.request_chunks select ?, 0, unnest(range(?::integer)), unnest(?::varchar[])",
                [load_id, len(pieces), pieces],
            ).fetchall()
            del pieces
        else:
            raise SystemExit(f"unknown variant {variant}")
        con.execute("commit")
        inserted = time.perf_counter()
        con.execute("checkpoint")
        checkpointed = time.perf_counter()
        steps.append(
            {
                "load": number + 1,
                "insert_s": round(inserted - started, 3),
                "checkpoint_s": round(checkpointed - inserted, 3),
                "file_mb": round(database.stat().st_size / 1e6, 1),
            }
        )
        print(json.dumps({"variant": variant, **steps[-1]}), file=sys.stderr, flush=True)
    if variant == "chunks":
        # Reassembling a body costs what? (readers see whole bodies)
        started = time.perf_counter()
        (length,) = con.execute(
            "select length(string_agg(chunk, '' order by chunk_index)) from raw.request_chunks"
            " where load_id = 'load-0000'"
        ).fetchone()
        reassemble = time.perf_counter() - started
        assert length == len(files[0].read_text()), "a reassembled body differs from its file"
    else:
        reassemble = None
    con.close()
    return {
        "variant": variant,
        "files": len(files),
        "body_mb": round(sum(path.stat().st_size for path in files) / 1e6, 1),
        "steps": steps,
        "insert_s": round(sum(step["insert_s"] for step in steps), 2),
        "checkpoint_s": round(sum(step["checkpoint_s"] for step in steps), 2),
        "total_s": round(sum(step["insert_s"] + step["checkpoint_s"] for step in steps), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "file_mb": steps[-1]["file_mb"] if steps else 0,
        "reassemble_one_s": round(reassemble, 3) if reassemble is not None else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=20, help="request bodies to land, one load each (scale)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder of *_bulk.json files")
    parser.add_argument("--variants", default="rows,chunks,per-load,current")
    parser.add_argument("--chunk-bytes", type=int, default=1 << 20)
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the databases go (default: a temp dir)"
    )
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    bodies = sorted(args.source.glob("*_bulk.json"))
    if not bodies:
        raise SystemExit(f"no *_bulk.json in {args.source}")
    files = [bodies[number % len(bodies)] for number in range(args.files)]
    if args.worker:
        database = args.workdir / f"{args.worker}.duckdb"
        print(json.dumps(_worker(args.worker, database, files, args.chunk_bytes)))
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_request_storage_"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for variant in args.variants.split(","):
        for leftover in workdir.glob(f"{variant}.duckdb*"):
            leftover.unlink()
        command = [sys.executable, __file__, "--worker", variant, "--workdir", str(workdir)]
        command += [
            "--files",
            str(args.files),
            "--source",
            str(args.source),
            "--chunk-bytes",
            str(args.chunk_bytes),
        ]
        output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
        for leftover in workdir.glob(f"{variant}.duckdb*"):
            leftover.unlink()
    print()
    print(
        "| variant | loads | body MB | insert s | checkpoint s | total s | first / last checkpoint s | file MB"
        " | peak RSS MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        steps = result["steps"]
        print(
            f"| {result['variant']} | {result['files']} | {result['body_mb']} | {result['insert_s']}"
            f" | {result['checkpoint_s']} | {result['total_s']}"
            f" | {steps[0]['checkpoint_s']} / {steps[-1]['checkpoint_s']} | {result['file_mb']}"
            f" | {result['peak_rss_mb']} |"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
