"""Benchmark of the lamp field (docs/PANEL.md, "Benchmark"): one panel in headless Chromium
watching N colleagues while R of them change per second. It reports the time from a change
reported over the integration API to the lamp showing it, and the CPU the page used.

    .venv/bin/python tests/python/bench_panel.py                       # 1000 colleagues, 100/s, 30 s
    .venv/bin/python tests/python/bench_panel.py --colleagues 100 --rate 10 --seconds 10

Not a pytest test (it takes minutes and measures time). It uses the dev build like the tests
($LAMPFIELD_BIN, else target/debug/lampfield); the node's accounts are made through its admin
socket, subscriptions with slixmpp, and each change is a PBX line going on_call or idle, which
every colleague may see (business level and up). No colleague has a client online, so a call
makes the lamp live and the idle line after it offline again: each change is a whole presence
appearing or going, the heavier case for the page.

Latency is measured from just before the API request to the MutationObserver seeing the lamp's
data-line change (both wall clock on this machine); page CPU is Chromium's TaskDuration for the
page over the run, as a share of one core."""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import http.client
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path

from browser import chromium, until
from harness import Client, Node, close_all

VIEWER = "viewer@localhost"
PASSWORD = "bench-secret-1"

# Records, in the page, when each lamp's data-line changed (wall-clock milliseconds).
OBSERVE = """
window.__seen = [];
new MutationObserver(records => {
  const at = performance.timeOrigin + performance.now();
  for (const r of records) window.__seen.push([r.target.dataset.jid, r.target.dataset.line, at]);
}).observe(document.getElementById('field'), {subtree: true, attributes: true, attributeFilter: ['data-line']});
"""


def colleague(i: int) -> str:
    return f"c{i}@localhost"


async def subscribe_viewer(node: Node, n: int, batch: int) -> None:
    """The viewer subscribes to every colleague: `batch` colleagues log in, the viewer asks each,
    each approves, they leave; then the next batch."""
    viewer = Client(node, VIEWER, PASSWORD)
    await viewer.login()
    try:
        for start in range(0, n, batch):
            group = [Client(node, colleague(i), PASSWORD) for i in range(start, min(n, start + batch))]
            await asyncio.gather(*(c.login() for c in group))
            try:
                for c in group:
                    viewer.x.send_presence_subscription(pto=c.bare, ptype="subscribe")
                for c in group:
                    await c.wait_presence("the viewer's request", type="subscribe", from_bare=VIEWER, timeout=30)
                    c.x.send_presence_subscription(pto=VIEWER, ptype="subscribed")
                for c in group:
                    await viewer.wait_presence("approved", type="subscribed", from_bare=c.bare, timeout=30)
            finally:
                await close_all(*group)
    finally:
        await close_all(viewer)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--colleagues", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=100, help="changes per second")
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--batch", type=int, default=50, help="colleagues logging in at once during setup")
    args = ap.parse_args()
    # slixmpp leaves tasks behind when a batch's event loop ends; asyncio would log each one.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    n, rate = args.colleagues, args.rate

    node = Node(Path(tempfile.mkdtemp(prefix="bench-panel-")))
    node.add_user(VIEWER, PASSWORD)
    node.start()
    try:
        t = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: node.add_user(colleague(i), PASSWORD), range(n)))
        token = node.cli("token", "add", "bench", "--level", "personal", "--rate", "100000").stdout.strip()
        asyncio.run(subscribe_viewer(node, n, args.batch))
        print(f"setup: {n} colleagues subscribed in {time.monotonic() - t:.0f} s", flush=True)

        with chromium() as driver:
            from selenium.webdriver.common.by import By

            driver.get(f"http://127.0.0.1:{node.http_port}/")
            driver.find_element(By.NAME, "jid").send_keys(VIEWER)
            driver.find_element(By.NAME, "password").send_keys(PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
            t = time.monotonic()
            asyncio.run(until(lambda: driver.execute_script(
                "return document.querySelectorAll('.lamp').length") == n, f"{n} lamps", timeout=120))
            print(f"panel: {n} lamps in {time.monotonic() - t:.1f} s after login", flush=True)
            driver.execute_script(OBSERVE)
            driver.execute_cdp_cmd("Performance.enable", {})

            def metrics() -> dict:
                return {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}

            before, wall0 = metrics(), time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", node.http_port, timeout=10)
            sent: list[tuple[str, str, float]] = []
            total = rate * args.seconds
            start = time.monotonic()
            for k in range(total):
                # Colleague k mod n; each goes on the phone, then idle on its next turn.
                jid = colleague(k % n)
                state = "on_call" if (k // n) % 2 == 0 else "idle"
                pause = start + k / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                at = time.time() * 1000
                conn.request("PUT", f"/v1/users/{jid}/lines/1", json.dumps({"state": state}),
                             {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                assert resp.status == 200, resp.status
                sent.append((jid, state, at))
            time.sleep(2)
            after, wall = metrics(), time.monotonic() - wall0
            seen = driver.execute_script("return window.__seen")
    finally:
        node.stop()

    first: dict[tuple[str, str], list[float]] = {}
    for jid, line, at in seen:
        first.setdefault((jid, line), []).append(at)
    latencies, missed = [], 0
    for jid, state, at in sent:
        # No colleague has a client online: the call makes them live, and an idle line without a
        # client is offline again, which shows as no line at all (docs/PROTOCOL.md).
        shown = "none" if state == "idle" else state
        later = [s for s in first.get((jid, shown), []) if s >= at - 5]
        if later:
            latencies.append(min(later) - at)
        else:
            missed += 1
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    cpu = after.get("TaskDuration", 0) - before.get("TaskDuration", 0)
    script = after.get("ScriptDuration", 0) - before.get("ScriptDuration", 0)
    print(json.dumps({
        "colleagues": n, "rate_per_s": rate, "seconds": args.seconds, "changes": len(sent),
        "shown": len(latencies), "missed": missed,
        "latency_ms": {"p50": round(pct(0.5), 1), "p95": round(pct(0.95), 1), "p99": round(pct(0.99), 1),
                       "max": round(latencies[-1], 1) if latencies else None,
                       "mean": round(statistics.fmean(latencies), 1) if latencies else None},
        "page_cpu_percent": round(100 * cpu / wall, 1), "page_script_percent": round(100 * script / wall, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
