"""The module-level app reads the environment on first use; `hspc ingress` refuses a bad configuration."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from hspc_pipelines.cli import main
from hspc_pipelines.emulators._server import serve_in_thread
from hspc_pipelines.ingress import asgi
from hspc_pipelines.ingress.settings import IngressConfigError, IngressSettings
from hspc_pipelines_tests.support.ingress import API_TOKEN


@pytest.fixture
def fresh_app(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(asgi, "_app", None)
    yield
    asgi._app = None


def test_module_app_is_configured_from_the_environment(fresh_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", "from-env")
    monkeypatch.setenv("HSPC_INGRESS_MAX_BODY_BYTES", "10")
    monkeypatch.setenv("HSPC_INGRESS_API_TOKENS", "ci:" + API_TOKEN)
    with serve_in_thread(asgi.app) as server:
        assert requests.get(server.url + "/healthz", timeout=5).json() == {"status": "ok"}
        assert requests.post(server.url + "/webhook/hubspot", data=b"x" * 11, timeout=5).status_code == 413
        assert requests.get(server.url + "/solutions", timeout=5).status_code == 401
        bearer = {"Authorization": f"Bearer {API_TOKEN}"}
        assert requests.get(server.url + "/openapi.json", headers=bearer, timeout=5).status_code == 200


def test_cli_refuses_to_start_without_a_token(fresh_app, monkeypatch, capsys) -> None:
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", "from-env")
    for name in (
        "HSPC_INGRESS_API_TOKEN",
        "HSPC_INGRESS_API_TOKENS",
        "HSPC_INGRESS_API_TOKENS_SSM_PARAMETER",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("HSPC_INGRESS_AUTH", raising=False)
    assert main(["ingress", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "no bearer token is configured" in err and "HSPC_INGRESS_AUTH=off" in err


def test_cli_refuses_to_start_without_a_client_secret(fresh_app, monkeypatch, capsys) -> None:
    monkeypatch.delenv("HUBSPOT_CLIENT_SECRET", raising=False)
    monkeypatch.delenv("HSPC_WEBHOOK_ACCEPT_VERSIONS", raising=False)
    assert main(["ingress", "--port", "1"]) == 2
    assert "HUBSPOT_CLIENT_SECRET is not set" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"HUBSPOT_CLIENT_SECRET": "s", "HSPC_WEBHOOK_ACCEPT_VERSIONS": "v3,v4"}, "v4"),
        ({"HUBSPOT_CLIENT_SECRET": "s", "HSPC_INGRESS_MAX_BODY_BYTES": "big"}, "HSPC_INGRESS_MAX_BODY_BYTES"),
        ({"HUBSPOT_CLIENT_SECRET": "s", "HSPC_PUBLIC_URL": "hooks.example.com"}, "HSPC_PUBLIC_URL"),
    ],
)
def test_settings_errors_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(IngressConfigError, match=needle) as info:
        IngressSettings.from_env(env)
    assert "'s'" not in str(info.value)


def test_settings_from_env() -> None:
    settings = IngressSettings.from_env(
        {
            "HUBSPOT_CLIENT_SECRET": "s3cr3t",
            "HSPC_WEBHOOK_ACCEPT_VERSIONS": "v1, v3",
            "HSPC_PUBLIC_URL": "https://hooks.example.com/",
            "HSPC_EVENTS_QUEUE_URL": "http://127.0.0.1:1/q",
            "AWS_REGION": "eu-west-1",
            "HSPC_INGRESS_API_TOKENS": f"new:{API_TOKEN}, old:{API_TOKEN[::-1]}",
        }
    )
    assert [t.id for t in settings.fixed_tokens] == ["new", "old"]
    assert settings.accept_versions == {"v1", "v3"} and settings.public_url == "https://hooks.example.com"
    assert settings.max_body_bytes == 1024 * 1024 and settings.region == "eu-west-1"
    assert "s3cr3t" not in repr(settings) and API_TOKEN not in repr(settings)
    off = IngressSettings.from_env({"HSPC_WEBHOOK_ACCEPT_VERSIONS": "none", "HSPC_INGRESS_AUTH": "off"})
    assert not off.webhooks_enabled


def _serve_and_call(env: dict[str, str], port: int, paths: list[str]) -> list[str]:
    """`hspc ingress` in its own process, as the ECS service runs it; its stderr lines."""
    command = [sys.executable, "-m", "hspc_pipelines.cli", "ingress", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        for path in paths:
            requests.get(base + path, timeout=5)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    return err.splitlines()


@pytest.mark.parametrize("level", ["INFO", "WARNING"])
def test_ingress_logs_follow_log_level_and_format(free_tcp_port: int, level: str) -> None:
    env = {
        **os.environ,
        "HUBSPOT_CLIENT_SECRET": "from-env",
        "HSPC_INGRESS_API_TOKENS": "ci:" + API_TOKEN,
        "HSPC_LOG_FORMAT": "json",
        "LOG_LEVEL": level,
    }
    lines = _serve_and_call(env, free_tcp_port, ["/healthz", f"/solutions?token={API_TOKEN}"])
    records = [json.loads(line) for line in lines]  # uvicorn's lines too: one JSON object each
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    if level == "INFO":
        assert any("/healthz" in r["message"] for r in access)
        assert any("/solutions " in r["message"] for r in access)
    else:
        assert not access and all(r["level"] in {"WARNING", "ERROR", "CRITICAL"} for r in records)
    assert API_TOKEN not in "\n".join(lines)
