"""The partner's solutions catalog from ListSolutions, as rows for the solutions asset."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from hspc_pipelines.partner_central.records import to_jsonable


class SolutionLister(Protocol):
    def list_solutions(self) -> Iterable[dict[str, Any]]: ...


def fetch_solutions(client: SolutionLister) -> list[dict[str, Any]]:
    return [to_jsonable(s) for s in client.list_solutions()]


def solution_rows(solutions: Iterable[dict[str, Any]], partition_date: str) -> list[dict[str, Any]]:
    return [
        {
            "solution_id": s["Id"],
            "partition_date": partition_date,
            "name": s.get("Name"),
            "category": s.get("Category"),
            "status": s.get("Status"),
            "arn": s.get("Arn"),
            "created_date": s.get("CreatedDate"),
        }
        for s in solutions
    ]
