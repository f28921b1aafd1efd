"""API keys of the Import API server: `mrr-warehouse api-keys create NAME | revoke NAME`.

A key is shown once, when created; the warehouse keeps only its sha256 (main.api_keys), so a copy of the file
does not hand out working keys. MRR_WAREHOUSE_API_KEY (containers, tests) is accepted besides the stored keys.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import secrets

import duckdb

from mrr_warehouse import landing
from mrr_warehouse.commands import CommandError, command, open_warehouse
from mrr_warehouse.display import say

ENV_KEY = "MRR_WAREHOUSE_API_KEY"

DDL = """
create table if not exists main.api_keys (
    name varchar primary key,
    key_sha256 varchar not null,
    created_at timestamp not null,
    revoked_at timestamp
)
"""


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    landing.run(con, DDL)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def active_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    ensure_table(con)
    return {
        row[0] for row in landing.run(con, "select key_sha256 from main.api_keys where revoked_at is null")
    }


def env_key_matches(key: str) -> bool:
    wanted = os.environ.get(ENV_KEY)
    return bool(wanted) and hmac.compare_digest(key.encode(), (wanted or "").encode())


@command
def run_create(args: argparse.Namespace) -> int:
    key = "mrrw_" + secrets.token_urlsafe(32)
    with open_warehouse() as con:
        ensure_table(con)
        if landing.one(con, "select 1 from main.api_keys where name = ? and revoked_at is null", [args.name]):
            raise CommandError(f"an API key named {args.name} exists; revoke it first")
        landing.run(con, "delete from main.api_keys where name = ?", [args.name])
        landing.run(
            con,
            "insert into main.api_keys (name, key_sha256, created_at) values (?, ?, ?)",
            [args.name, key_hash(key), landing.utcnow()],
        )
    say(key)
    say(
        f"(API key {args.name}: shown only now; send it as the HTTP Basic username, as ChartMogul's clients do)"
    )
    return 0


@command
def run_revoke(args: argparse.Namespace) -> int:
    with open_warehouse() as con:
        ensure_table(con)
        row = landing.one(
            con, "select 1 from main.api_keys where name = ? and revoked_at is null", [args.name]
        )
        if row is None:
            raise CommandError(f"no active API key named {args.name}")
        landing.run(
            con, "update main.api_keys set revoked_at = ? where name = ?", [landing.utcnow(), args.name]
        )
    say(f"revoked API key {args.name} (a running server refuses it within a few seconds)")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("api-keys", help="keys of the Import API server (mrr-warehouse serve)")
    commands = parser.add_subparsers(dest="api_keys_command", metavar="COMMAND", required=True)
    create = commands.add_parser("create", help="create a key; it is printed once and stored hashed")
    create.add_argument("name")
    create.set_defaults(func=run_create)
    revoke = commands.add_parser("revoke", help="revoke a key")
    revoke.add_argument("name")
    revoke.set_defaults(func=run_revoke)
