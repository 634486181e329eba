"""Converse.js, a third-party web client, in headless Chromium: it logs in over the node's XMPP
over WebSocket (RFC 7395, docs/PROTOCOL.md) and sees a contact's presence change.

Converse.js comes from npm at test time (`npm pack`, pinned below) into a temporary folder and is
served from there by a tiny local HTTP server; nothing of it is in the repository. The test skips
with a message when npm or the registry cannot be reached, or Chromium is missing."""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import tarfile
import threading

import pytest

from browser import chromium, console, subscribed, until
from harness import close_all, run

CONVERSE = "converse.js@14.0.0"
ALICE, BOB = "alice@localhost", "bob@localhost"
USERS = {ALICE: "alice-secret-1", BOB: "bob-secret-2"}

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="dist/converse.min.css">
<script type="module" src="dist/converse.min.js"></script></head>
<body class="converse-fullscreen"><script type="module" src="init.js"></script></body></html>"""

INIT = """
converse.plugins.add('lampfield-probe', { initialize() { window.lfApi = this._converse.api; } });
converse.initialize({
  websocket_url: 'WS_URL', jid: 'JID', password: 'PASSWORD', auto_login: true,
  authentication: 'login', discover_connection_methods: false, view_mode: 'fullscreen',
  whitelisted_plugins: ['lampfield-probe'], loglevel: 'info', persistent_store: 'sessionStorage',
  auto_reconnect: false, show_controlbox_by_default: true,
});
"""

SHOW = """
const done = arguments[arguments.length - 1];
if (!window.lfApi) return done(null);
Promise.resolve(window.lfApi.contacts.get())
  .then(all => {
    const c = all.find(c => c.get('jid') === arguments[0]);
    // Converse keeps "online"/"offline" in `presence` and the RFC 6121 <show/> in `show`.
    done(c && c.presence ? (c.presence.get('show') || c.presence.get('presence')) : null);
  }, e => done('error: ' + e));
"""


@pytest.fixture(scope="module")
def converse_dist(tmp_path_factory):
    """Converse.js's dist folder, from npm into a temporary folder (once per module)."""
    npm = shutil.which("npm")
    if not npm:
        pytest.skip("npm not found: Converse.js is fetched with `npm pack` at test time")
    where = tmp_path_factory.mktemp("converse")
    try:
        r = subprocess.run([npm, "pack", CONVERSE, "--silent"], cwd=where, capture_output=True,
                           text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm pack {CONVERSE} took too long: is the npm registry reachable?")
    tgz = [p for p in where.glob("converse.js-*.tgz")]
    if r.returncode != 0 or not tgz:
        pytest.skip(f"npm pack {CONVERSE} failed (registry unreachable?): {r.stderr.strip()[-300:]}")
    with tarfile.open(tgz[0]) as t:
        members = [m for m in t.getmembers() if m.name.startswith("package/dist/")]
        t.extractall(where, members=members, filter="data")
    return where / "package" / "dist"


def serve(folder):
    """A static HTTP server on a free loopback port for `folder`; returns (server, base URL)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_converse_logs_in_over_the_websocket_and_sees_a_contact(make_node, converse_dist, tmp_path):
    node = make_node(USERS)
    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(converse_dist, site / "dist")
    (site / "index.html").write_text(PAGE)
    (site / "init.js").write_text(
        INIT.replace("WS_URL", f"ws://127.0.0.1:{node.http_port}/xmpp-websocket")
        .replace("JID", ALICE).replace("PASSWORD", USERS[ALICE]))
    server, base = serve(site)

    async def scenario():
        clients = await subscribed(node, USERS, ALICE, (BOB,))
        bob = clients[BOB]
        try:
            with chromium() as driver:
                driver.get(f"{base}/index.html")

                def show(want: str) -> bool:
                    return driver.execute_async_script(SHOW, BOB) == want

                shown = await until(lambda: show("online"),
                                    f"Converse.js shows bob online\n{console(driver)}", timeout=30)
                assert shown
                bob.presence(show="dnd", status="In a call")
                await until(lambda: show("dnd"),
                            f"Converse.js shows bob busy\n{console(driver)}")
        finally:
            await close_all(*clients.values())
            server.shutdown()

    run(scenario())
