"""Shared fixtures: a fresh warehouse file per test, request files, and the CLI run as a subprocess."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess as _subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from mrr_warehouse import cli


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The warehouse file of this test; MRR_WAREHOUSE_DB points at it (for subprocesses too)."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("MRR_WAREHOUSE_DB", str(path))
    monkeypatch.delenv("MRR_WAREHOUSE_PUBLISHED_DB", raising=False)  # the snapshot goes beside it
    return path


@pytest.fixture
def write_request(tmp_path: Path) -> Callable[..., Path]:
    """write_request(name, body) -> a .json file holding one request body; a list of bodies and a name
    ending in .ndjson -> one body per line. `raw=` writes text as is."""

    def write(name: str, body: Any = None, *, raw: str | bytes | None = None) -> Path:
        path = tmp_path / "requests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw is not None:
            path.write_bytes(raw.encode() if isinstance(raw, str) else raw)
        elif name.endswith(".ndjson"):
            path.write_bytes(b"".join(orjson.dumps(item) + b"\n" for item in body))
        else:
            path.write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2))
        return path

    return write


@pytest.fixture
def run_cli(db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """run_cli("load", "--data-source", "Billing", path) -> a CompletedProcess of `mrr-warehouse ...`.

    In-process (`cli.main`, output captured) by default, which keeps the suite fast; a real subprocess
    (`python -m mrr_warehouse.cli`) when `env` is given or `subprocess=True`.
    """

    def run(
        *args: str | Path, env: dict[str, str] | None = None, subprocess: bool = False, timeout: float = 120
    ):
        argv = [str(arg) for arg in args]
        if env is not None or subprocess:
            environment = {**os.environ, "MRR_WAREHOUSE_DB": str(db_path), **(env or {})}
            return _subprocess.run(
                [sys.executable, "-m", "mrr_warehouse.cli", *argv],
                capture_output=True,
                text=True,
                env=environment,
                cwd=tmp_path,
                timeout=timeout,
                check=False,
            )
        monkeypatch.chdir(tmp_path)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 2
        return _subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def load(run_cli: Callable[..., Any]) -> Callable[..., Any]:
    """load(path, ..., data_source="Billing", strict=False) -> the finished `mrr-warehouse load` process."""

    def run(*paths: str | Path, data_source: str = "Billing", strict: bool = False, **kwargs: Any) -> Any:
        args = ["load", "--data-source", data_source, *(["--strict"] if strict else []), *paths]
        return run_cli(*args, **kwargs)

    return run


@pytest.fixture
def query(db_path: Path) -> Callable[..., list[tuple[Any, ...]]]:
    """query(sql, params) -> rows, read from the warehouse file (opened and closed per call)."""

    def run(sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()

    return run
