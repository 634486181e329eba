"""A slixmpp client in its own process, for tests that kill it with SIGKILL.

    python client_proc.py CONFIG_DIR PORT JID PASSWORD RESOURCE

Logs in, sends available presence with the status "alive", prints `ONLINE <full jid>`
and then waits to be killed (at most 60 s).
"""

import asyncio
import sys
from pathlib import Path

from harness import Client


class _Node:
    def __init__(self, data_dir: str, port: str) -> None:
        self.cert = Path(data_dir) / "cert.pem"
        self.port = int(port)


async def main() -> None:
    data_dir, port, jid, password, resource = sys.argv[1:6]
    client = Client(_Node(data_dir, port), jid, password, resource=resource, initial_presence=False)
    await client.login()
    client.presence(status="alive")
    print(f"ONLINE {client.jid}", flush=True)
    await asyncio.sleep(60)


asyncio.run(main())
