"""Run `mrr-warehouse serve` as the acceptance check does: a subprocess on a free local port, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from warehouse_runner import BIN, PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(db_path: Path, api_key: str, **env: str) -> Iterator[str]:
    """The server's base uri (http://127.0.0.1:PORT/v1) while it runs; on exit SIGTERM, and the exit status must
    be a graceful shutdown."""
    port = free_port()
    environment = {**os.environ, "MRR_WAREHOUSE_DB": str(db_path), "MRR_WAREHOUSE_API_KEY": api_key, **env}
    log = db_path.parent / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(BIN / "mrr-warehouse"), "serve", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    uri = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{uri}/ping", auth=(api_key, ""), timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield uri
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    # uvicorn re-raises SIGTERM after its graceful shutdown (the lifespan's end: the writer's queue drained).
    output = log.read_text()
    assert code in (0, -signal.SIGTERM) and "Application shutdown complete" in output, output
