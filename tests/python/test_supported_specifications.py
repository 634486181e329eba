"""docs/PROTOCOL.md, "Supported specifications": the table of implemented specifications names
exactly the features the server advertises in its disco#info (XEP-0030), no more, no fewer."""

from __future__ import annotations

import re

from conftest import USERS
from harness import REPO, Client, WAIT_S, logged_in, run

ALICE = "alice@localhost"


def documented_features() -> set[str]:
    """The backticked features in the last column of the table under "Supported specifications"."""
    text = (REPO / "docs" / "PROTOCOL.md").read_text()
    section = text.split("## Supported specifications", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) > 5, "the table of supported specifications is missing"
    features = set()
    for row in rows[1:]:  # the header first
        last = row.rstrip(" |").rsplit("|", 1)[1].strip()
        if last != "–":
            found = re.fullmatch(r"`([^`]+)`", last)
            assert found, f"the last column holds one feature in backticks or –: {row}"
            features.add(found.group(1))
    return features


def test_the_documented_specifications_are_exactly_what_the_server_advertises(node):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE])
        alice.x.register_plugin("xep_0030")
        async with logged_in(alice):
            info = await alice.x["xep_0030"].get_info(jid="localhost", timeout=WAIT_S)
            advertised = set(info["disco_info"]["features"])
        documented = documented_features()
        assert advertised - documented == set(), \
            f"advertised but not in docs/PROTOCOL.md: {sorted(advertised - documented)}"
        assert documented - advertised == set(), \
            f"in docs/PROTOCOL.md but not advertised: {sorted(documented - advertised)}"

    run(scenario())
