"""RFC 6120 §6 with RFC 7677, RFC 5802 and RFC 4616: SCRAM-SHA-256, SCRAM-SHA-1 and
PLAIN all log in a real client; PLAIN is never offered before TLS; a wrong password
fails with <not-authorized/> and nothing else breaks."""

import pytest

from conftest import USERS
from harness import Client, close_all, run
from rawxmpp import features_before_and_after_tls, mechanisms

ALICE, BOB = "alice@localhost", "bob@localhost"


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
def test_mechanism_logs_in(node, mech):
    async def scenario():
        alice = Client(node, ALICE, USERS[ALICE], mech=mech)
        await alice.login()
        try:
            assert alice.bare == ALICE
            assert alice.x.boundjid.resource, "the server must bind a resource when none is asked for"
            assert not alice.failed_auth, alice.failed_auth
        finally:
            await close_all(alice)

    run(scenario())


def test_features_offer_plain_only_after_tls(node):
    before, after = features_before_and_after_tls(node)
    assert "PLAIN" not in mechanisms(before), f"PLAIN offered on the plain-text stream: {before}"
    assert {"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"} <= mechanisms(after), f"after TLS: {after}"


def test_plain_not_offered_without_tls_even_when_tls_is_optional(make_node):
    node = make_node(extra_c2s="require_tls = false\n")
    before, _after = features_before_and_after_tls(node)
    assert "PLAIN" not in mechanisms(before), f"PLAIN offered on the plain-text stream: {before}"


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
def test_wrong_password_fails_cleanly(node, mech):
    async def scenario():
        mallory = Client(node, ALICE, "not-alices-password", mech=mech)
        try:
            await mallory.login()
        except (ConnectionError, AssertionError):
            pass
        else:
            raise AssertionError(f"{mech}: logged in with a wrong password")
        finally:
            mallory.abort()
        assert mallory.failed_auth, f"{mech}: no SASL <failure/> seen (stream errors: {mallory.stream_errors})"
        assert mallory.failed_auth[0] == "not-authorized", f"{mech}: failure was {mallory.failed_auth}"
        # Nobody else is affected: the right password works at once.
        alice = Client(node, ALICE, USERS[ALICE], mech=mech)
        await alice.login()
        await close_all(alice)

    run(scenario())


def test_unknown_user_fails_like_a_wrong_password(node):
    async def scenario():
        ghost = Client(node, "ghost@localhost", "whatever")  # tries every offered mechanism
        try:
            await ghost.login()
        except (ConnectionError, AssertionError):
            pass
        else:
            raise AssertionError("logged in as an account that does not exist")
        finally:
            ghost.abort()
        assert ghost.failed_auth and set(ghost.failed_auth) == {"not-authorized"}, \
            f"unknown user: SASL failures {ghost.failed_auth}"

    run(scenario())
