"""Fixtures: a running `lampfield` node with three accounts, stopped with SIGTERM afterwards."""

from __future__ import annotations

import pytest

from harness import Node

USERS = {
    "alice@localhost": "alice-secret-1",
    "bob@localhost": "bob-secret-2",
    "carol@localhost": "carol-secret-3",
}


@pytest.fixture
def make_node(tmp_path):
    """Factory: a node on a fresh data folder, users added before it starts."""
    nodes: list[Node] = []

    def make(users: dict[str, str] = USERS, extra_c2s: str = "", start: bool = True,
             directory: bool = False) -> Node:
        (tmp_path / f"node{len(nodes)}").mkdir()
        node = Node(tmp_path / f"node{len(nodes)}", extra_c2s=extra_c2s, directory=directory)
        nodes.append(node)
        for jid, password in users.items():
            node.add_user(jid, password)
        if start:
            node.start()
        return node

    yield make
    for node in nodes:
        if node.proc is not None:
            code = node.stop()
            assert code == 0, f"lampfield exited {code} on SIGTERM:\n{node.log_tail()}"


@pytest.fixture
def node(make_node) -> Node:
    return make_node()
