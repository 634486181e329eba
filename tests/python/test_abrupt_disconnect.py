"""RFC 6121 §4.6: when a session ends without </stream:stream> (the TCP connection
just drops), the server broadcasts unavailable presence for it. Colleagues at the default level
see the person, from the node's resource (docs/ACCESS.md)."""

import asyncio
import signal
import sys
from pathlib import Path

from conftest import USERS
from harness import WAIT_S, Client, befriend, close_all, login_all, logged_in, person, run

ALICE, BOB = "alice@localhost", "bob@localhost"
HERE = Path(__file__).resolve().parent


def test_aborted_transport_is_seen_as_unavailable(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="phone")
        bob = Client(node, BOB, USERS[BOB])
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            await bob.wait_presence("alice available", type="available", **{"from": alice.person})
            alice.abort()  # transport closed, no closing stream tag
            await bob.wait_presence("alice unavailable after abort", type="unavailable",
                                    **{"from": alice.person})

    run(scenario())


def test_killed_client_process_is_seen_as_unavailable(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], resource="setup")
        bob = Client(node, BOB, USERS[BOB])
        await login_all(alice, bob)
        proc = None
        try:
            await befriend(alice, bob)
            await alice.close()
            await bob.wait_presence("alice's setup session ends", type="unavailable", from_bare=ALICE)

            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(HERE / "client_proc.py"), str(node.data_dir), str(node.port),
                ALICE, USERS[ALICE], "doomed", cwd=str(HERE),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), WAIT_S)
            except asyncio.TimeoutError:
                raise AssertionError(f"client process did not log in within {WAIT_S}s")
            assert line.startswith(b"ONLINE "), (
                f"client process said {line!r}; stderr: {(await proc.stderr.read())[-2000:]!r}")
            assert line.split()[1].decode().startswith(ALICE + "/doomed"), line
            await bob.wait_presence("alice's client process available", type="available",
                                    status="alive", **{"from": person(ALICE)})
            proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(proc.wait(), WAIT_S)
            await bob.wait_presence("alice unavailable after SIGKILL of her client", type="unavailable",
                                    **{"from": person(ALICE)})
        finally:
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
            await close_all(alice, bob)

    run(scenario())
