"""Keyword matching of deals to the partner's solutions, and the choice made on create.

A solution scores by the share of its name and category words found in the deal's title, problem
statement and use case (name words count double). A configured default solution always comes first;
at most 10 are associated, ACE's limit per opportunity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hspc_pipelines.mapping.vocabulary import Operation
from hspc_pipelines.solutions.sync import MAX_SOLUTIONS_PER_OPPORTUNITY, check_catalog, create_solutions

if TYPE_CHECKING:
    from hspc_pipelines.reconcile.plan import PlanRow

MIN_SCORE = 0.5
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset({"a", "an", "and", "aws", "for", "of", "on", "the", "to", "with", "in", "solution"})


@dataclass(frozen=True)
class SolutionMatch:
    solution_id: str
    name: str
    score: float


def words(text: str | None) -> set[str]:
    return {w for w in _WORD.findall((text or "").lower()) if w not in _STOPWORDS and len(w) > 1}


def score(solution: Mapping[str, Any], text_words: set[str]) -> float:
    name_words = words(solution.get("name"))
    category_words = words(solution.get("category"))
    total = 2 * len(name_words) + len(category_words)
    if total == 0 or not text_words:
        return 0.0
    hits = 2 * len(name_words & text_words) + len(category_words & text_words)
    return round(hits / total, 4)


def search(
    solutions: Iterable[Mapping[str, Any]], query: str, active_only: bool = True
) -> list[SolutionMatch]:
    """Solutions ranked by relevance to free text, best first (the CLI and the ingress use this)."""
    query_words = words(query)
    matches = []
    for s in solutions:
        if active_only and (s.get("status") or "Active") != "Active":
            continue
        value = score(s, query_words)
        if value > 0:
            matches.append(SolutionMatch(str(s["solution_id"]), str(s.get("name") or ""), value))
    return sorted(matches, key=lambda m: (-m.score, m.name, m.solution_id))


def match_request(
    request: Mapping[str, Any],
    solutions: Sequence[Mapping[str, Any]],
    default_solution_id: str | None,
    limit: int = MAX_SOLUTIONS_PER_OPPORTUNITY,
) -> list[str]:
    """Solution ids to associate with a new opportunity built from `request`."""
    project = request.get("Project") or {}
    text = " ".join(
        str(project.get(k) or "") for k in ("Title", "CustomerBusinessProblem", "CustomerUseCase")
    )
    chosen = [default_solution_id] if default_solution_id else []
    for m in search(solutions, text):
        if m.score >= MIN_SCORE and m.solution_id not in chosen:
            chosen.append(m.solution_id)
    return chosen[:limit]


def choose_solutions(
    rows: Iterable[PlanRow], solutions: Sequence[Mapping[str, Any]], default_solution_id: str | None
) -> None:
    """Fill `solution_ids` on the plan's create rows: the deal's `aws_solution_ids` when set, else
    the matched ones (written back to the deal); then a row that would associate a solution the
    partner does not have becomes invalid, naming it (`solutions.sync`)."""
    rows = list(rows)
    for row in rows:
        if row.operation == Operation.CREATE and row.request is not None:
            create_solutions(row, match_request(row.request, solutions, default_solution_id))
    check_catalog(rows, solutions)
