"""Placeholder: the sample-data generator lands here (`mrr-warehouse generate`)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001
    parser = subparsers.add_parser("generate", help="generate sample Import API request files")
    parser.set_defaults(func=lambda args: 2)
