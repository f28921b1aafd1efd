"""Counting and reporting a load: accepted, rejected and unchanged objects, errors and warnings as values
(printed for people, capped; stored in main.load_errors and main.load_warnings in batches), progress lines."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from mrr_warehouse import landing
from mrr_warehouse.landing import utcnow
from mrr_warehouse.loading.items import Item, owning_customer
from mrr_warehouse.validation import Issue, Problem

MAX_PRINTED_PROBLEMS = 1000
PROBLEM_FLUSH_SIZE = 10_000


class Report:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        file: str,
        load_id: str,
        data_source_uuid: str,
        strict: bool,
        say: Callable[[str], None],
        note: Callable[[str], None],
        progress_every: int,
    ) -> None:
        self.con = con
        self.file = file
        self.load_id = load_id
        self.data_source_uuid = data_source_uuid
        self.strict = strict
        self.say = say
        self.note = note
        self.progress_every = progress_every
        self.accepted = self.rejected = self.unchanged = self.warning_count = 0
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.request_errors: list[Problem] = []  # the current request's, for the Import API server's answer
        self.printed = 0
        self.processed = 0
        self.reported = 0
        # how a problem is told: as found, or (a CSV load, csv_load.py) by the file's line and column
        self.locate: Callable[[Problem], Problem] = lambda problem: problem

    def counts(self) -> tuple[int, int, int]:
        return self.accepted, self.rejected, self.unchanged

    @staticmethod
    def problem(item: Item, field_name: str | None, message: str) -> Problem:
        return Problem(
            item.object_type,
            item.external_id,
            item.position,
            field_name or None,
            message,
            item.context,
            owning_customer(item),
        )

    def error(self, problem: Problem) -> None:
        problem = self.locate(problem)
        self.errors.append(problem)
        self.request_errors.append(problem)
        self._print(problem.render(self.file))
        if not self.strict and len(self.errors) >= PROBLEM_FLUSH_SIZE:
            self.flush()

    def warn(self, problem: Problem) -> None:
        problem = self.locate(problem)
        self.warnings.append(problem)
        self.warning_count += 1
        self._print("warning: " + problem.render(self.file))
        if not self.strict and len(self.warnings) >= PROBLEM_FLUSH_SIZE:
            self.flush()

    def reject(self, item: Item, issues: list[Issue] | None = None) -> None:
        for field_name, message in issues if issues is not None else item.issues:
            self.error(self.problem(item, field_name, message))
        self.rejected += 1

    def warn_item(self, item: Item) -> None:
        for field_name, message in item.warnings:
            self.warn(self.problem(item, field_name, message))

    def _print(self, line: str) -> None:
        self.printed += 1
        if self.printed <= MAX_PRINTED_PROBLEMS:
            self.say(line)
        elif self.printed == MAX_PRINTED_PROBLEMS + 1:
            self.say(
                f"{self.file}: more errors and warnings follow; see main.load_errors and main.load_warnings"
            )

    def counted(self, count: int) -> None:
        self.processed += count
        if self.processed - self.reported >= self.progress_every:
            self.reported = self.processed - self.processed % self.progress_every
            self.note(f"{self.file}: {self.processed:,} objects read, {self.accepted:,} accepted so far")

    def flush(self) -> None:
        """Store the problems gathered so far (in the load's transaction)."""
        now = utcnow()
        for table, problems in (("main.load_errors", self.errors), ("main.load_warnings", self.warnings)):
            landing.insert_problems(
                self.con,
                table,
                load_id=self.load_id,
                file=self.file,
                data_source_uuid=self.data_source_uuid,
                problems=problems,
                now=now,
            )
        self.errors, self.warnings = [], []

    def failed(self, message: str) -> None:
        """Nothing landed: the file's one error is why."""
        self.errors = [Problem(None, None, None, None, message)]
        self.warnings = []
        self.accepted = self.rejected = self.unchanged = self.warning_count = 0
