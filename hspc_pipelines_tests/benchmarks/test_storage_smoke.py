"""benchmarks/storage.py at a tiny size: every candidate that runs here replaces exactly the
backfilled days and keeps all concurrent writers, DuckLake says why it cannot run, the end-to-end
part completes on both stores, and the RESULTS.md section is replaced in place (and kept by
benchmarks.run). Nothing here asserts a timing."""

from __future__ import annotations

from pathlib import Path

from benchmarks import storage
from benchmarks.run import write_results
from benchmarks.scenarios import Report


def test_every_candidate_that_runs_here_does_the_same_work_correctly() -> None:
    results = storage.run(rows=300, days=15)  # the backfill replaces days 10-12
    ran = [r for r in results if not r.candidate.startswith("DuckLake")]
    assert {(r.candidate, r.backend) for r in ran} == {
        (storage.Delta.name, "local folder"),
        (storage.Delta.name, "moto S3"),
        (storage.Iceberg.name, "local folder + SQLite catalog"),
        (storage.Iceberg.name, "moto S3 + PostgreSQL catalog"),
    }
    for r in ran:
        assert r.figures["3-day backfill replaces only its days"] == "yes", r
        assert r.figures["4 concurrent writers of different days"].startswith("all 4 days kept"), r
    ducklake = next(r for r in results if r.candidate.startswith("DuckLake"))
    assert ducklake.figures["runs here"] != "", ducklake


def test_the_end_to_end_no_op_runs_on_both_stores() -> None:
    walls = storage.e2e_noop(20, lambda _msg: None)
    assert set(walls) == {"local", "s3"} and all(w > 0 for w in walls.values())


def test_the_results_section_is_replaced_in_place_and_kept_by_benchmarks_run(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n")
    first = storage.results_section([], {"local": 10.0, "s3": 12.0}, ["--e2e-deals", "10"])
    storage.write_section(first, path)
    second = storage.results_section([], {"local": 10.0, "s3": 20.0}, ["--e2e-deals", "10"])
    storage.write_section(second, path)
    text = path.read_text()
    assert text.count(storage.MARK_START) == 1 and "2.00x" in text and "MISS" in text and "1.20x" not in text
    write_results(Report(), [], path)
    assert "2.00x" in path.read_text()
