"""`hspc run` as a person meets it: help that says what the code does, a few lines of progress and a
summary (Dagster's event log only with --verbose), and one clear line for an error they can fix."""

from __future__ import annotations

import datetime as dt

import pytest

from hspc_pipelines.cli import main
from hspc_pipelines.emulators.seed import anchor_now, generate_seed
from hspc_pipelines_tests.support.product import Product, product

__all__ = ["product"]  # the fixture


def _since(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["run", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_says_what_the_code_does(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "120 days unless set" in text and "whole range" not in text
    assert "--verbose" in text and "Dagster's full event log" in text


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        (
            {"HSPC_RUN_DAYS": "zero"},
            (),
            "hspc run: HSPC_RUN_DAYS='zero' cannot be used; allowed: a whole number",
        ),
        ({}, ("--since", "yesterday"), "hspc run: --since: 'yesterday' is not a date; expected YYYY-MM-DD"),
    ],
)
def test_bad_input_is_one_line_before_anything_starts(monkeypatch, capsys, env, args, expected) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = _run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(expected)


def test_a_bad_mapping_file_is_one_line(monkeypatch, capsys, tmp_path) -> None:
    bad = tmp_path / "mapping.yaml"
    bad.write_text("amount_mode: weekly\n")
    monkeypatch.setenv("HSPC_MAPPING_CONFIG", str(bad))
    code, out, err = _run(capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"hspc run: HSPC_MAPPING_CONFIG='{bad}': ") and "amount_mode" in err
    assert "weekly" in err and "Traceback" not in err


def test_progress_then_summary_without_dagsters_event_log(product: Product, capsys) -> None:
    product.stack.hubspot.load_seed(generate_seed(12, seed=4, now_ms=anchor_now()))
    code, out, err = _run(capsys, "--since", _since(130))
    assert code == 0, err
    lines = out.splitlines()
    steps = [line for line in lines if line.startswith("[")]
    assert [s.split()[1] for s in steps] == [
        "hubspot_deals",
        "partner_central_solutions",
        "partner_central_opportunities",
        "sync_plan",
        "opportunity_creates",
        "opportunity_imports",
        "opportunity_updates",
        "hubspot_deal_writes",
    ]
    assert steps[0].startswith("[1/8]") and steps[-1].startswith("[8/8]")
    assert any("rows planned:" in line for line in lines)
    assert any(
        # the emulator stack sets HSPC_PC_WRITES_PER_DAY to its own quota
        "writes so far:" in line and "Partner Central writes a day" in line
        for line in lines
    )
    assert "Figures" in lines and any(line.startswith("  API calls") for line in lines)
    assert "STEP_START" not in out + err and "DEBUG" not in out + err
    assert len(lines) < 60  # the 12-deal demo printed ~950 lines of Dagster events before


def test_verbose_adds_dagsters_event_log(product: Product, capsys) -> None:
    code, out, err = _run(capsys, "--verbose")
    assert code == 0
    assert "STEP_START" in out + err and "[1/8] hubspot_deals" in out


def test_a_refused_token_is_one_line_and_the_traceback_only_with_verbose(
    product: Product, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "not-the-token")
    code, out, err = _run(capsys)
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith(
        "hspc run: hubspot_deals: HubSpot refused the access token: set HUBSPOT_ACCESS_TOKEN"
    )
    assert "HTTP 401" in err and "not-the-token" not in out + err
    assert "Traceback" not in out + err and "FAILED FAILED" not in out
    code, out, err = _run(capsys, "--verbose")
    assert code == 1 and "Traceback of hubspot_deals:" in err and "HubSpotError" in err
    assert err.splitlines()[-1].startswith("hspc run: hubspot_deals: HubSpot refused the access token")


def test_an_unreachable_hubspot_is_one_line(product: Product, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
    code, out, err = _run(capsys)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(
        "hspc run: hubspot_deals: HubSpot is unreachable: check the network and HUBSPOT_BASE_URL"
    )
    assert "Traceback" not in out + err
