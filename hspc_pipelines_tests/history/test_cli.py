"""`hspc history` end to end through hspc_pipelines.cli.main, on a state database the test fills."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hspc_pipelines.cli import main
from hspc_pipelines.history import FieldChange, SyncHistory
from hspc_pipelines.history.cli import state_url
from hspc_pipelines_tests.support.history import entry

TODAY = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SyncHistory:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    monkeypatch.setenv("HSPC_STATE_URL", url)
    history = SyncHistory.from_url(url)
    history.append(
        [
            entry(
                run_id="run-old",
                operation="create",
                status="created",
                opportunity_id="O1234567890",
                review_status="Submitted",
                recorded_at=TODAY - dt.timedelta(days=3),
            ),
            entry(
                run_id="run-new",
                status="failed",
                opportunity_id="O1234567890",
                reason_code="ValidationException",
                message="Customer.Account.Address.CountryCode: 'XX' | not a country",
                changes=[FieldChange("dealname", "Acme", "Acme EU"), FieldChange("api_token", "t1", "t2")],
                recorded_at=TODAY - dt.timedelta(hours=1),
            ),
            entry(
                deal_id="2002",
                status="invalid",
                reason_code="MISSING_FIELD",
                recorded_at=TODAY - dt.timedelta(days=2),
            ),
            entry(
                deal_id="3003",
                status="failed",
                reason_code="ThrottlingException",
                recorded_at=TODAY - dt.timedelta(days=30),
            ),
        ]
    )
    history.dispose()
    return history


def test_timeline_newest_first(state: SyncHistory, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "1001"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Sync history of deal 1001, newest first:"
    assert lines[1].split()[:5] == ["when", "(UTC)", "operation", "status", "opportunity"]
    assert len(lines) == 4
    assert "failed" in lines[2] and "ValidationException: Customer.Account" in lines[2]
    assert "dealname: 'Acme' -> 'Acme EU'; api_token (secret, changed)" in lines[2]
    assert "t1" not in out and "t2" not in out
    assert "created" in lines[3] and "Submitted" in lines[3] and "reconcile run-old [2026-12-05]" in lines[3]


def test_timeline_limit(state: SyncHistory, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "1001", "--limit", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "run-new" in lines[2]


def test_unknown_deal(state: SyncHistory, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "9999"]) == 0
    assert capsys.readouterr().out == "No sync history for deal 9999.\n"


def test_failed_defaults_to_the_last_week(state: SyncHistory, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--failed"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 failed row(s), newest first:"
    assert "1001" in lines[2] and "ValidationException" in lines[2]
    assert "2002" in lines[3] and "invalid" in lines[3] and "MISSING_FIELD" in lines[3]


def test_failed_since(state: SyncHistory, capsys: pytest.CaptureFixture[str]) -> None:
    since = (TODAY - dt.timedelta(days=40)).date().isoformat()
    assert main(["history", "--failed", "--since", since]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 failed row(s)") and "ThrottlingException" in out
    tomorrow = (TODAY + dt.timedelta(days=1)).date().isoformat()
    assert main(["history", "--failed", "--since", tomorrow]) == 0
    assert capsys.readouterr().out == "No failed rows.\n"


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "2026-1-5", "20261205", ""])
def test_bad_since_is_refused_naming_option_value_and_format(
    state: SyncHistory, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["history", "--failed", "--since", value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --since: {value!r} is not a date; expected YYYY-MM-DD" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["history"], "give either DEAL_ID or --failed"),
        (["history", "1001", "--failed"], "give either DEAL_ID or --failed"),
        (["history", "1001", "--since", "2026-12-01"], "--since only applies with --failed"),
        (
            ["history", "1001", "--limit", "0"],
            "argument --limit: '0' must be a whole number of rows, at least 1",
        ),
    ],
)
def test_bad_combinations_are_refused(
    state: SyncHistory, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_default_state_url_is_sqlite_under_dagster_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HSPC_STATE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert state_url() == f"sqlite:///{tmp_path / 'hspc_state.sqlite'}"
    monkeypatch.setenv("HSPC_STATE_URL", "postgresql+psycopg2://hspc@db/hspc")
    assert state_url() == "postgresql+psycopg2://hspc@db/hspc"


def test_no_database_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HSPC_STATE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert main(["history", "1001"]) == 0
    assert (
        capsys.readouterr().out == f"No sync history yet: {tmp_path / 'hspc_state.sqlite'} does not exist.\n"
    )
    assert not (tmp_path / "hspc_state.sqlite").exists()


def test_reads_what_the_product_wrote_under_dagster_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HSPC_STATE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    history = SyncHistory.from_url(f"sqlite:///{tmp_path / 'hspc_state.sqlite'}")
    history.append([entry(deal_id="77", status="created", operation="create")])
    history.dispose()
    assert main(["history", "77"]) == 0
    assert "created" in capsys.readouterr().out
