"""A real Prosody (Debian's package) for the server-to-server interop tests.

`ScratchCA` makes a certificate authority in a temporary folder with `openssl` and issues
server certificates whose names are DNS entries in subjectAltName only (no XmppAddr,
no reliance on the subject CN), usable for both TLS server and client authentication.

`Prosody` writes a configuration into its own folder (one virtual host, loopback
ports, its own data folder, the test CA as trust anchor) and runs
`prosody --config FILE` in the foreground. Prosody keeps its default s2s security:
encrypted streams are required and peer certificates are checked against the CA.

Name resolution: Prosody 0.12 has no static route option, and its DNS resolver reads
neither /etc/hosts nor anything we could point elsewhere. The configuration therefore
loads a small plugin, written next to it, that answers Prosody's s2s resolver for the
listed domains with a fixed loopback address and port; every other domain goes
through DNS as usual. Nothing outside the temporary folder is touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness import WAIT_S, Node, free_port

PROSODY = shutil.which("prosody") or "/usr/bin/prosody"
PROSODYCTL = shutil.which("prosodyctl") or "/usr/bin/prosodyctl"


def prosody_available() -> bool:
    return Path(PROSODY).is_file() and Path(PROSODYCTL).is_file() and shutil.which("openssl") is not None


def _openssl(*args: str, cwd: Path) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"openssl {' '.join(args)} failed:\n{r.stderr}"


class ScratchCA:
    """A throwaway certificate authority."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert = self.dir / "ca.pem"
        self.key = self.dir / "ca.key"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", str(self.key), "-out", str(self.cert), "-days", "2",
                 "-subj", "/O=Lampfield test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)

    def issue(self, domain: str) -> tuple[Path, Path]:
        """A certificate for `domain` (DNS name in subjectAltName only) and its key."""
        key = self.dir / f"{domain}.key"
        csr = self.dir / f"{domain}.csr"
        cert = self.dir / f"{domain}.pem"
        ext = self.dir / f"{domain}.ext"
        ext.write_text(
            f"subjectAltName=DNS:{domain}\n"
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", str(key), "-out", str(csr), "-subj", "/O=Lampfield test", cwd=self.dir)
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key),
                 "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext),
                 cwd=self.dir)
        key.chmod(0o644)  # Prosody may drop to its own user when started as root
        return cert, key


ROUTE_PLUGIN = """\
-- Static s2s routes for tests: answer Prosody's SRV resolver for the domains in
-- `s2s_test_routes` ({ ["domain"] = { "127.0.0.1", port } }) with that address.
local service = require "net.resolvers.service";
local basic = require "net.resolvers.basic";
local manual = require "net.resolvers.manual";
local routes = module:get_option("s2s_test_routes", {});
if not service.test_routes_installed then
  service.test_routes_installed = true;
  local original = service.new;
  service.new = function (hostname, service_name, proto, extra)
    local target = routes[hostname];
    if target == nil then
      return original(hostname, service_name, proto, extra);
    end
    if service_name == "xmpp-server" then
      module:log("info", "static route for %s: %s:%d", hostname, target[1], target[2]);
      return basic.new(target[1], target[2], proto, extra);
    end
    return manual.new({}, proto, extra);
  end
end
"""


class Prosody:
    """One Prosody process serving `domain` on loopback."""

    def __init__(self, folder: Path, domain: str, ca: ScratchCA, routes: dict[str, int]) -> None:
        self.dir = folder
        self.dir.mkdir(parents=True, exist_ok=True)
        self.domain = domain
        self.ca = ca
        self.c2s_port = free_port()
        self.s2s_port = free_port()
        self.cert, self.key = ca.issue(domain)
        self.data = self.dir / "data"
        self.data.mkdir(exist_ok=True)
        # Prosody's certificate manager looks in `certificates` by host name too.
        certs = self.dir / "certs"
        certs.mkdir(exist_ok=True)
        shutil.copy(self.cert, certs / f"{domain}.crt")
        shutil.copy(self.key, certs / f"{domain}.key")
        plugins = self.dir / "plugins"
        plugins.mkdir(exist_ok=True)
        (plugins / "mod_s2s_test_routes.lua").write_text(ROUTE_PLUGIN)
        self.log = self.dir / "prosody.log"
        lua_routes = "".join(
            f'  ["{d}"] = {{ "127.0.0.1", {p} }};\n' for d, p in routes.items())
        self.config = self.dir / "prosody.cfg.lua"
        self.config.write_text(f"""\
-- Written by the s2s interop test; everything lives in {self.dir}.
pidfile = "{self.dir}/prosody.pid"
data_path = "{self.data}"
plugin_paths = {{ "{plugins}" }}
run_as_root = true
certificates = "{certs}"
log = {{ {{ levels = {{ min = "debug" }}, to = "file", filename = "{self.log}" }} }}
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {self.c2s_port} }}
c2s_direct_tls_ports = {{ }}
s2s_ports = {{ {self.s2s_port} }}
s2s_direct_tls_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
modules_enabled = {{ "roster", "saslauth", "tls", "dialback", "disco", "ping", "s2s_test_routes" }}
modules_disabled = {{ "offline", "c2s_direct_tls" }}
authentication = "internal_hashed"
storage = "internal"
ssl = {{ cafile = "{ca.cert}" }}
s2s_test_routes = {{
{lua_routes}}}

VirtualHost "{domain}"
  ssl = {{ certificate = "{self.cert}", key = "{self.key}", cafile = "{ca.cert}" }}
""")
        self.proc: subprocess.Popen | None = None

    def ctl(self, *args: str) -> subprocess.CompletedProcess:
        r = subprocess.run([PROSODYCTL, "--config", str(self.config), *args],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, f"prosodyctl {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
        return r

    def add_user(self, local: str, password: str) -> None:
        self.ctl("register", local, self.domain, password)

    def start(self) -> None:
        out = open(self.dir / "prosody.out", "a")
        self.proc = subprocess.Popen([PROSODY, "--config", str(self.config), "-F"],
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out.close()
        deadline = time.monotonic() + WAIT_S
        while True:
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                raise AssertionError(f"prosody exited with {code}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.s2s_port), timeout=0.5):
                    pass
                with socket.create_connection(("127.0.0.1", self.c2s_port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"prosody not listening within {WAIT_S}s:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=WAIT_S)
        self.proc = None

    def log_tail(self, lines: int = 60) -> str:
        text = []
        for f in (self.dir / "prosody.out", self.log):
            try:
                text += f.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                pass
        return "\n".join(text) or "(no log)"


class Endpoint:
    """What `harness.Client` needs of a server: its c2s port and the CA to trust."""

    def __init__(self, port: int, ca: Path) -> None:
        self.port = port
        self.cert = ca


LF, PR = "lampfield.test", "prosody.test"


@dataclass
class Federation:
    """A node serving `LF` and a Prosody serving `PR`, routed to each other."""
    node: Node
    prosody: Prosody
    node_s2s_port: int
    lf: Endpoint
    pr: Endpoint


@contextlib.contextmanager
def lampfield_and_prosody(tmp_path: Path, *, with_certs: bool, users: dict[str, str],
                          prosody_users: dict[str, str], node_extra: str = ""):
    """Start both servers; stop both afterwards, and fail if the node did not exit cleanly.

    `with_certs`: the node has a certificate from the test CA and trusts the CA; else it
    keeps its generated self-signed certificate and trusts nobody. `node_extra` is appended to
    the node's configuration (whole sections)."""
    assert prosody_available(), "prosody, prosodyctl and openssl are needed (scripts/test installs them)"
    ca = ScratchCA(tmp_path / "ca")
    node_s2s = free_port()
    prosody = Prosody(tmp_path / "prosody", PR, ca, {LF: node_s2s})
    for local, password in prosody_users.items():
        prosody.add_user(local, password)
    (tmp_path / "node").mkdir()
    node = Node(tmp_path / "node")
    tls, ca_file = "", ""
    if with_certs:
        lf_cert, lf_key = ca.issue(LF)
        tls = f'[tls]\ncert_file = "{lf_cert}"\nkey_file = "{lf_key}"\n'
        ca_file = f'ca_file = "{ca.cert}"\n'
    # As in harness.Node: these scenarios are about subscriptions and strangers, so the
    # organization directory (every account sees every other) is off.
    node.config.write_text(
        f'domain = "{LF}"\n'
        f'data_dir = "{node.data_dir}"\n'
        "[directory]\n"
        "enabled = false\n"
        "[http]\n"
        f'listen = "127.0.0.1:{node.http_port}"\n'
        "[c2s]\n"
        f'listen = "127.0.0.1:{node.port}"\n'
        + tls +
        "[s2s]\n"
        "enabled = true\n"
        f'listen = "127.0.0.1:{node_s2s}"\n'
        + ca_file +
        "[s2s.routes]\n"
        f'"{PR}" = "127.0.0.1:{prosody.s2s_port}"\n'
        + node_extra)
    for jid, password in users.items():
        node.add_user(jid, password)
    prosody.start()
    try:
        node.start()
        node_ca = ca.cert if with_certs else node.cert
        yield Federation(node, prosody, node_s2s, Endpoint(node.port, node_ca),
                         Endpoint(prosody.c2s_port, ca.cert))
    finally:
        code = node.stop() if node.proc is not None else 0
        prosody.stop()
    assert code == 0, f"lampfield exited {code} on SIGTERM:\n{node.log_tail()}"


if __name__ == "__main__":  # pragma: no cover - manual check: python prosody.py DIR
    import sys
    base = Path(sys.argv[1])
    ca = ScratchCA(base / "ca")
    p = Prosody(base / "prosody", "prosody.test", ca, {"lampfield.test": 25269})
    p.add_user("bob", "bob-pass")
    p.start()
    print("c2s", p.c2s_port, "s2s", p.s2s_port, "pid", p.proc.pid if p.proc else None)
    print(os.environ.get("KEEP") and "kept running" or "stopping")
    if not os.environ.get("KEEP"):
        p.stop()
