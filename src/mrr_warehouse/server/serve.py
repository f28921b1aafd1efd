"""`mrr-warehouse serve`: the Import API on 127.0.0.1 (unless told otherwise), served by uvicorn."""

from __future__ import annotations

import argparse
import logging

from mrr_warehouse.commands import command


@command
def run_serve(args: argparse.Namespace) -> int:
    import uvicorn  # imported here: the other commands need none of the server's stack

    from mrr_warehouse.server.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # uvicorn's access log prints the full path and query (ids, e-mails): ours logs the route template instead.
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=30,
    )
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the ChartMogul Import API v1 under /v1/ (HTTP Basic: the API key as username)",
        description="Requests land like `mrr-warehouse load` does. Keys: `api-keys create` or $MRR_WAREHOUSE_API_KEY.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.set_defaults(func=run_serve)
