"""A real terminal client: Profanity (Debian's package), driven in tmux, logs in to the node, shows
a contact's presence in its roster and shows the message the contact sent while it was offline
(XEP-0160). Nobody here wrote Profanity: what it shows is what a user of it would see."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time

import pytest

from conftest import USERS
from harness import Client, befriend, logged_in, run

ALICE, BOB = "alice@localhost", "bob@localhost"
MESSAGE = "hello while you were away"
SESSION = "lampfield-profanity"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


def screen() -> str:
    return tmux("capture-pane", "-t", SESSION, "-p")


def wait_screen(what: str, pred, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        shown = screen()
        if pred(shown):
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f"Profanity did not show {what} within {timeout}s; the screen:\n{shown}")
        time.sleep(0.2)


@pytest.mark.skipif(shutil.which("profanity") is None or shutil.which("tmux") is None,
                    reason="profanity and tmux are needed (scripts/test installs them from Debian)")
def test_profanity_sees_a_contacts_presence_and_the_message_kept_while_offline(node, tmp_path):
    async def prepare():
        alice = Client(node, ALICE, USERS[ALICE])
        bob = Client(node, BOB, USERS[BOB])
        async with logged_in(alice, bob):
            await befriend(alice, bob)
            await alice.close()
            bob.x.send_message(mto=ALICE, mbody=MESSAGE, mtype="chat")
            bob.presence(show="dnd", status="in a call")
            # Let the node keep the message before Profanity logs in.
            await asyncio.sleep(0.5)
            await run_profanity()

    async def run_profanity():
        env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"),
                   XDG_DATA_HOME=str(tmp_path / "data"), TERM="xterm-256color")
        tmux("kill-session", "-t", SESSION)
        subprocess.run(["tmux", "new-session", "-d", "-s", SESSION, "-x", "160", "-y", "45",
                        "env", f"XDG_CONFIG_HOME={env['XDG_CONFIG_HOME']}",
                        f"XDG_DATA_HOME={env['XDG_DATA_HOME']}", "TERM=xterm-256color", "profanity"],
                       check=True, timeout=10, env=env)
        try:
            wait_screen("its start screen", lambda s: "Profanity" in s)
            tmux("send-keys", "-t", SESSION,
                 f"/connect {ALICE} server 127.0.0.1 port {node.port} tls trust", "Enter")
            wait_screen("the password prompt", lambda s: "password" in s.lower())
            tmux("send-keys", "-t", SESSION, USERS[ALICE], "Enter")
            wait_screen("a successful login", lambda s: "logged in successfully" in s)
            # The roster panel lists bob under "Do not disturb" (with her own words there).
            wait_screen("bob in the roster as do not disturb",
                        lambda s: "Do not disturb (1)" in s and "bob@localhost" in s)
            # The message bob sent while alice was offline opened a chat window: window 2.
            tmux("send-keys", "-t", SESSION, "/win 2", "Enter")
            shown = wait_screen("bob's message in the chat window", lambda s: MESSAGE in s)
            assert "bob@localhost" in shown, shown
        finally:
            tmux("send-keys", "-t", SESSION, "/quit", "Enter")
            time.sleep(0.5)
            tmux("kill-session", "-t", SESSION)

    run(prepare())
