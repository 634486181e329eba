//! One row per RFC 6121 case: Appendix A.2 (outbound) and A.3 (inbound) for each of
//! the nine states of A.1, plus the pre-approval (§3.4) and roster-membership cases.

use super::Effect::*;
use super::Event::*;
use super::*;

/// `N`, `T`, `F`, `B` (none, to, from, both), then `+O` pending out, `+I` pending
/// in, `+OI` both pending, `+P` pre-approved; a leading `-` means not in the roster.
fn st(s: &str) -> State {
    let (in_roster, s) = match s.strip_prefix('-') {
        Some(rest) => (false, rest),
        None => (true, s),
    };
    let mut parts = s.split('+');
    let mut sub = Subscription::default();
    match parts.next().unwrap() {
        "N" => {}
        "T" => sub.to = true,
        "F" => sub.from = true,
        "B" => (sub.to, sub.from) = (true, true),
        other => panic!("bad state {other}"),
    }
    for p in parts {
        match p {
            "O" => sub.pending_out = true,
            "I" => sub.pending_in = true,
            "OI" => (sub.pending_out, sub.pending_in) = (true, true),
            "P" => sub.preapproved = true,
            other => panic!("bad sub-state {other}"),
        }
    }
    State { sub, in_roster }
}

type Row = (
    &'static str,
    &'static str,
    Event,
    &'static str,
    &'static [Effect],
);

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // A.2.1 outbound subscribe: always routed (§3.1.2).
    ("A.2.1 None", "N", OutSubscribe, "N+O", &[Route, Push]),
    ("A.2.1 None + Pending Out", "N+O", OutSubscribe, "N+O", &[Route]),
    ("A.2.1 None + Pending In", "N+I", OutSubscribe, "N+OI", &[Route, Push]),
    ("A.2.1 None + Pending Out+In", "N+OI", OutSubscribe, "N+OI", &[Route]),
    ("A.2.1 To", "T", OutSubscribe, "T", &[Route]),
    ("A.2.1 To + Pending In", "T+I", OutSubscribe, "T+I", &[Route]),
    ("A.2.1 From", "F", OutSubscribe, "F+O", &[Route, Push]),
    ("A.2.1 From + Pending Out", "F+O", OutSubscribe, "F+O", &[Route]),
    ("A.2.1 Both", "B", OutSubscribe, "B", &[Route]),
    ("§3.1.2 unknown contact is added", "-N", OutSubscribe, "N+O", &[Route, Push]),
    // A.2.2 outbound unsubscribe: always routed (§3.3.2).
    ("A.2.2 None", "N", OutUnsubscribe, "N", &[Route]),
    ("A.2.2 None + Pending Out", "N+O", OutUnsubscribe, "N", &[Route, Push]),
    ("A.2.2 None + Pending In", "N+I", OutUnsubscribe, "N+I", &[Route]),
    ("A.2.2 None + Pending Out+In", "N+OI", OutUnsubscribe, "N+I", &[Route, Push]),
    ("A.2.2 To", "T", OutUnsubscribe, "N", &[Route, Push]),
    ("A.2.2 To + Pending In", "T+I", OutUnsubscribe, "N+I", &[Route, Push]),
    ("A.2.2 From", "F", OutUnsubscribe, "F", &[Route]),
    ("A.2.2 From + Pending Out", "F+O", OutUnsubscribe, "F", &[Route, Push]),
    ("A.2.2 Both", "B", OutUnsubscribe, "F", &[Route, Push]),
    // A.2.3 outbound subscribed: approval routed (§3.1.5), else pre-approval (§3.4).
    ("A.2.3 None / §3.4 pre-approval", "N", OutSubscribed, "N+P", &[Push]),
    ("A.2.3 None + Pending Out / §3.4 pre-approval", "N+O", OutSubscribed, "N+O+P", &[Push]),
    ("A.2.3 None + Pending In", "N+I", OutSubscribed, "F", &[Route, Push, SendPresence]),
    ("A.2.3 None + Pending Out+In", "N+OI", OutSubscribed, "F+O", &[Route, Push, SendPresence]),
    ("A.2.3 To / §3.4 pre-approval", "T", OutSubscribed, "T+P", &[Push]),
    ("A.2.3 To + Pending In", "T+I", OutSubscribed, "B", &[Route, Push, SendPresence]),
    ("A.2.3 From", "F", OutSubscribed, "F", &[]),
    ("A.2.3 From + Pending Out", "F+O", OutSubscribed, "F+O", &[]),
    ("A.2.3 Both", "B", OutSubscribed, "B", &[]),
    ("§3.4 pre-approval repeated", "N+P", OutSubscribed, "N+P", &[]),
    ("§3.4 pre-approval of someone not in the roster stays hidden", "-N", OutSubscribed, "-N+P", &[]),
    ("§3.1.5 approving a hidden request adds the item", "-N+I", OutSubscribed, "F", &[Route, Push, SendPresence]),
    // A.2.4 outbound unsubscribed: routed only when it denies or cancels (§3.2.2).
    ("A.2.4 None", "N", OutUnsubscribed, "N", &[]),
    ("A.2.4 None + Pending Out", "N+O", OutUnsubscribed, "N+O", &[]),
    ("A.2.4 None + Pending In", "N+I", OutUnsubscribed, "N", &[Route]),
    ("A.2.4 None + Pending Out+In", "N+OI", OutUnsubscribed, "N+O", &[Route]),
    ("A.2.4 To", "T", OutUnsubscribed, "T", &[]),
    ("A.2.4 To + Pending In", "T+I", OutUnsubscribed, "T", &[Route]),
    ("A.2.4 From", "F", OutUnsubscribed, "N", &[Route, Push, SendUnavailable]),
    ("A.2.4 From + Pending Out", "F+O", OutUnsubscribed, "N+O", &[Route, Push, SendUnavailable]),
    ("A.2.4 Both", "B", OutUnsubscribed, "T", &[Route, Push, SendUnavailable]),
    ("§3.4 unsubscribed cancels a pre-approval", "N+P", OutUnsubscribed, "N", &[Push]),
    ("§3.4 cancelling a hidden pre-approval", "-T+P", OutUnsubscribed, "-T", &[]),
    // A.3.1 inbound subscribe (§3.1.3).
    ("A.3.1 None", "N", InSubscribe, "N+I", &[Deliver]),
    ("A.3.1 None + Pending Out", "N+O", InSubscribe, "N+OI", &[Deliver]),
    ("A.3.1 None + Pending In", "N+I", InSubscribe, "N+I", &[]),
    ("A.3.1 None + Pending Out+In", "N+OI", InSubscribe, "N+OI", &[]),
    ("A.3.1 To", "T", InSubscribe, "T+I", &[Deliver]),
    ("A.3.1 To + Pending In", "T+I", InSubscribe, "T+I", &[]),
    ("A.3.1 From (auto-reply)", "F", InSubscribe, "F", &[AutoSubscribed]),
    ("A.3.1 From + Pending Out (auto-reply)", "F+O", InSubscribe, "F+O", &[AutoSubscribed]),
    ("A.3.1 Both (auto-reply)", "B", InSubscribe, "B", &[AutoSubscribed]),
    ("§3.1.3 unknown contact is kept hidden", "-N", InSubscribe, "-N+I", &[Deliver]),
    ("§3.4 pre-approved None", "N+P", InSubscribe, "F", &[Push, AutoSubscribed, SendPresence]),
    ("§3.4 pre-approved To", "T+P", InSubscribe, "B", &[Push, AutoSubscribed, SendPresence]),
    ("§3.4 pre-approved, not in the roster", "-N+P", InSubscribe, "-F", &[AutoSubscribed, SendPresence]),
    // A.3.2 inbound unsubscribe (§3.3.3).
    ("A.3.2 None", "N", InUnsubscribe, "N", &[]),
    ("A.3.2 None + Pending Out", "N+O", InUnsubscribe, "N+O", &[]),
    ("A.3.2 None + Pending In", "N+I", InUnsubscribe, "N", &[Deliver]),
    ("A.3.2 None + Pending Out+In", "N+OI", InUnsubscribe, "N+O", &[Deliver]),
    ("A.3.2 To", "T", InUnsubscribe, "T", &[]),
    ("A.3.2 To + Pending In", "T+I", InUnsubscribe, "T", &[Deliver]),
    ("A.3.2 From", "F", InUnsubscribe, "N", &[Push, Deliver, SendUnavailable]),
    ("A.3.2 From + Pending Out", "F+O", InUnsubscribe, "N+O", &[Push, Deliver, SendUnavailable]),
    ("A.3.2 Both", "B", InUnsubscribe, "T", &[Push, Deliver, SendUnavailable]),
    // A.3.3 inbound subscribed (§3.1.6).
    ("A.3.3 None", "N", InSubscribed, "N", &[]),
    ("A.3.3 None + Pending Out", "N+O", InSubscribed, "T", &[Push, Deliver]),
    ("A.3.3 None + Pending In", "N+I", InSubscribed, "N+I", &[]),
    ("A.3.3 None + Pending Out+In", "N+OI", InSubscribed, "T+I", &[Push, Deliver]),
    ("A.3.3 To", "T", InSubscribed, "T", &[]),
    ("A.3.3 To + Pending In", "T+I", InSubscribed, "T+I", &[]),
    ("A.3.3 From", "F", InSubscribed, "F", &[]),
    ("A.3.3 From + Pending Out", "F+O", InSubscribed, "B", &[Push, Deliver]),
    ("A.3.3 Both", "B", InSubscribed, "B", &[]),
    // A.3.4 inbound unsubscribed (§3.2.3).
    ("A.3.4 None", "N", InUnsubscribed, "N", &[]),
    ("A.3.4 None + Pending Out", "N+O", InUnsubscribed, "N", &[Push, Deliver]),
    ("A.3.4 None + Pending In", "N+I", InUnsubscribed, "N+I", &[]),
    ("A.3.4 None + Pending Out+In", "N+OI", InUnsubscribed, "N+I", &[Push, Deliver]),
    ("A.3.4 To", "T", InUnsubscribed, "N", &[Push, Deliver]),
    ("A.3.4 To + Pending In", "T+I", InUnsubscribed, "N+I", &[Push, Deliver]),
    ("A.3.4 From", "F", InUnsubscribed, "F", &[]),
    ("A.3.4 From + Pending Out", "F+O", InUnsubscribed, "F", &[Push, Deliver]),
    ("A.3.4 Both", "B", InUnsubscribed, "F", &[Push, Deliver]),
];

#[test]
fn rfc6121_appendix_a() {
    let mut failures = Vec::new();
    for &(name, from, event, to, effects) in ROWS {
        let t = step(st(from), event);
        if t.next != st(to) || t.effects != effects {
            failures.push(format!(
                "{name}: {from} {event:?} -> {:?} {:?}, want {to} {effects:?}",
                t.next, t.effects
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_state_and_event_has_a_row() {
    let events = [
        OutSubscribe,
        OutUnsubscribe,
        OutSubscribed,
        OutUnsubscribed,
        InSubscribe,
        InUnsubscribe,
        InSubscribed,
        InUnsubscribed,
    ];
    for state in ["N", "N+O", "N+I", "N+OI", "T", "T+I", "F", "F+O", "B"] {
        for event in events {
            assert!(
                ROWS.iter()
                    .any(|r| r.1 == state && r.2 == event && r.0.starts_with("A.")),
                "no Appendix A row for {state} {event:?}"
            );
        }
    }
}

#[test]
fn invariants_hold_after_any_step() {
    let events = [
        OutSubscribe,
        OutUnsubscribe,
        OutSubscribed,
        OutUnsubscribed,
        InSubscribe,
        InUnsubscribe,
        InSubscribed,
        InUnsubscribed,
    ];
    for &(_, from, ..) in ROWS {
        for event in events {
            let n = step(st(from), event).next.sub;
            assert!(!(n.to && n.pending_out), "{from} {event:?}");
            assert!(
                !(n.from && (n.pending_in || n.preapproved)),
                "{from} {event:?}"
            );
        }
    }
}

#[test]
fn empty_state_is_removable() {
    assert!(st("-N").is_empty());
    assert!(!st("N").is_empty());
    assert!(!st("-N+I").is_empty());
}
