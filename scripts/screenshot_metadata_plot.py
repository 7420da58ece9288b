"""Screenshot of a run figure plotted in the Dagster UI, for docs/production.md
(docs/images/metadata_plot.png).

Starts the local emulator stack with seeded deals, runs the reconcile in process once per day for the
last DAYS days (one partition per run, so each run adds one point with its own figures) against a
temporary DAGSTER_HOME, then starts `dagster dev` on that home and has headless Chromium
(/usr/bin/chromium, driven over the DevTools protocol: the plots are a toggle of the asset page's
metadata section, not a URL) capture the `hubspot_deal_writes` asset's metadata plots. Everything
runs on 127.0.0.1 and is stopped at the end.

    .venv/bin/python scripts/screenshot_metadata_plot.py [--out docs/images/metadata_plot.png]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hspc_pipelines.emulators._server import free_port  # noqa: E402
from hspc_pipelines.emulators.seed import anchor_now, generate_seed  # noqa: E402
from hspc_pipelines.emulators.stack import EmulatorStack  # noqa: E402
from hspc_pipelines_tests.support.dagster_dev import DevServer  # noqa: E402
from hspc_pipelines_tests.support.dagster_ui import CHROMIUM  # noqa: E402
from hspc_pipelines_tests.support.environment import product_env  # noqa: E402

NUX_OFF = "\nnux:\n  enabled: false\n"


def run_days(home: Path, days: int) -> list[str]:
    """One reconcile run per day, oldest first; returns each run's line."""
    import dagster as dg
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    from hspc_pipelines.definitions import build_defs
    from hspc_pipelines.reconcile.runner import run_reconcile

    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text() + NUX_OFF)
    lines = []
    instance = dg.DagsterInstance.from_config(str(home))
    with set_defs_state_storage(instance.defs_state_storage):
        defs = build_defs(str(home))
    today = dt.datetime.now(dt.UTC).date()
    for back in range(days - 1, -1, -1):
        day = (today - dt.timedelta(days=back)).isoformat()
        outcome = run_reconcile(today=day, instance=instance, defs=defs)
        counts = outcome.frames["hubspot_deal_writes"]["final_status"].value_counts().to_dict()
        lines.append(f"{day}: {'ok' if outcome.success else 'FAILED'} {counts}")
    return lines


# Click the metadata section's "Plots" toggle, then its "Events" axis (one point per run, in time),
# and scroll the section to the top of the page.
SHOW_PLOTS = """
(() => {
  const buttons = () => [...document.querySelectorAll('button')];
  const plots = buttons().find(b => b.textContent.trim() === 'Plots');
  if (!plots) return false;
  plots.click();
  return true;
})()
"""
# Once in plot mode (the axis toggle appears): one point per run in time, section at the top.
BY_TIME = """
(() => {
  const plots = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Plots');
  let bar = plots && plots.parentElement;
  while (bar && ![...bar.querySelectorAll('button')].some(b => b.textContent.trim() === 'Partitions')) {
    bar = bar.parentElement;
  }
  const events = bar && [...bar.querySelectorAll('button')].find(b => b.textContent.trim() === 'Events');
  if (events) events.click();
  bar && bar.scrollIntoView({block: 'start'});
  return true;
})()
"""


async def _cdp_screenshot(ws_url: str, url: str, out: Path, width: int, height: int) -> None:
    import websockets

    async with websockets.connect(ws_url, max_size=64 * 1024 * 1024) as ws:
        counter = 0

        async def call(method: str, **params: Any) -> dict[str, Any]:
            nonlocal counter
            counter += 1
            await ws.send(json.dumps({"id": counter, "method": method, "params": params}))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("id") == counter:
                    return dict(reply.get("result", {}))

        await call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await call("Page.navigate", url=url)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            done = await call("Runtime.evaluate", expression=SHOW_PLOTS, returnByValue=True)
            if done.get("result", {}).get("value") is True:
                break
            await asyncio.sleep(1)
        else:
            raise RuntimeError("the asset page never showed its Plots toggle")
        await asyncio.sleep(2)
        await call("Runtime.evaluate", expression=BY_TIME, returnByValue=True)
        await asyncio.sleep(8)  # the plots load their materializations
        shot = await call("Page.captureScreenshot", format="png")
        out.write_bytes(base64.b64decode(shot["data"]))


def screenshot(url: str, out: Path, window: str) -> None:
    width, height = (int(x) for x in window.split(","))
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hspc-chromium-") as profile:
        proc = subprocess.Popen(
            [
                str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-sync",
                f"--user-data-dir={profile}", f"--remote-debugging-port={port}", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            ws_url = None
            for _ in range(60):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
                        pages = [t for t in json.load(r) if t.get("type") == "page"]
                    if pages:
                        ws_url = pages[0]["webSocketDebuggerUrl"]
                        break
                except OSError:
                    pass
                time.sleep(0.5)
            if ws_url is None:
                raise RuntimeError("chromium's DevTools endpoint did not come up")
            asyncio.run(_cdp_screenshot(ws_url, url, out, width, height))
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "metadata_plot.png")
    parser.add_argument("--deals", type=int, default=80)
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--window-size", default="1600,1400")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: apt-get install -y chromium", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="hspc-screenshot-") as tmp_dir, EmulatorStack() as stack:
        tmp = Path(tmp_dir)
        home = tmp / "home"
        home.mkdir()
        stack.hubspot.load_seed(generate_seed(args.deals, seed=11, now_ms=anchor_now()))
        # the schedule far from now, so the UI's daemon starts no run of its own meanwhile
        now = dt.datetime.now(dt.UTC)
        env = product_env(stack, home, HSPC_RECONCILE_CRON=f"{now.minute} {(now.hour + 12) % 24} * * *")
        os.environ.clear()
        os.environ.update(env)  # this process runs the product as the server will
        for line in run_days(home, args.days):
            print(line)
        with DevServer(home, env, tmp / "dagster-dev.log", extra_instance_yaml=NUX_OFF) as server:
            print(f"dagster dev on {server.url}")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            screenshot(f"{server.url}/assets/hubspot_deal_writes", args.out.resolve(), args.window_size)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
