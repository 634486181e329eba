//! Availability: the colour of the lamp (ProCall S9–S11, CLINQ S2, Teams availability).
//!
//! Three types on purpose: [`Availability`] is what the aggregate says, [`Settable`] is what a user,
//! profile or integration may claim, and [`ManualAvailability`] adds "appear offline" for the user
//! alone. "Inactive" and "offline" are in neither input type, so they cannot be set by hand
//! (ProCall S10/S11) — the type system enforces it, not a runtime check.

use serde::{Deserialize, Serialize};

/// The effective availability of a user.
///
/// `Offline` is also what a viewer without permission sees ("presence unavailable", ProCall V2):
/// there is deliberately no separate variant, so the two can never be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Reachable ("you can call", CLINQ green).
    Available,
    /// Busy: on the phone, in a meeting, or set by hand (red).
    Busy,
    /// Do not disturb: set by hand or by an integration (red with a bar).
    DoNotDisturb,
    /// Away: absent, set by hand, by a client, or by an out-of-office appointment (yellow).
    Away,
    /// Automatic only: idle at the computer past the threshold or screen locked (ProCall S10).
    Inactive,
    /// Not logged in anywhere, appearing offline, or not visible to this viewer (grey).
    Offline,
}

impl Availability {
    /// Rank used by the aggregation: the most severe live claim decides the availability
    /// (docs/PRESENCE.md rule 5). Offline never competes; it is decided before ranking.
    pub(crate) fn severity(self) -> u8 {
        match self {
            Availability::DoNotDisturb => 5,
            Availability::Busy => 4,
            Availability::Away => 3,
            Availability::Inactive => 2,
            Availability::Available => 1,
            Availability::Offline => 0,
        }
    }

    /// English label for status lines.
    pub fn label(self) -> &'static str {
        match self {
            Availability::Available => "Available",
            Availability::Busy => "Busy",
            Availability::DoNotDisturb => "Do not disturb",
            Availability::Away => "Away",
            Availability::Inactive => "Inactive",
            Availability::Offline => "Offline",
        }
    }

    /// The RFC 6121 `<show/>` value that fits best, `None` for plain available (no `<show/>`) and for
    /// offline (which is an unavailable presence, not a show value).
    ///
    /// XMPP has no "busy", and standard clients render `dnd` as "busy" anyway, so both map to `dnd`.
    /// Away and inactive are both `away`: a user who picks "Away" in a standard client expects
    /// colleagues' clients to say "Away", not "Extended away"; the status line and the detail
    /// element tell the two apart.
    pub fn xmpp_show(self) -> Option<&'static str> {
        match self {
            Availability::Available | Availability::Offline => None,
            Availability::Busy | Availability::DoNotDisturb => Some("dnd"),
            Availability::Away | Availability::Inactive => Some("away"),
        }
    }
}

/// What a user, a profile or an external system may claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settable {
    /// Available.
    Available,
    /// Busy.
    Busy,
    /// Do not disturb.
    DoNotDisturb,
    /// Away.
    Away,
}

impl From<Settable> for Availability {
    fn from(s: Settable) -> Self {
        match s {
            Settable::Available => Availability::Available,
            Settable::Busy => Availability::Busy,
            Settable::DoNotDisturb => Availability::DoNotDisturb,
            Settable::Away => Availability::Away,
        }
    }
}

/// What the user may choose by hand: a settable state, or to appear offline (XEP-0186 invisibility,
/// ProCall "Appear as Offline", Teams "Appear offline").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManualAvailability {
    /// Available.
    Available,
    /// Busy.
    Busy,
    /// Do not disturb.
    DoNotDisturb,
    /// Away.
    Away,
    /// Look exactly like an offline user to everyone.
    AppearOffline,
}

impl ManualAvailability {
    /// The settable state, or `None` for appear-offline.
    pub fn settable(self) -> Option<Settable> {
        match self {
            ManualAvailability::Available => Some(Settable::Available),
            ManualAvailability::Busy => Some(Settable::Busy),
            ManualAvailability::DoNotDisturb => Some(Settable::DoNotDisturb),
            ManualAvailability::Away => Some(Settable::Away),
            ManualAvailability::AppearOffline => None,
        }
    }
}

/// The `<show/>` of one connected XMPP resource (RFC 6121 §4.7.2.1); absent `<show/>` is `Available`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientShow {
    /// Free for chat.
    Chat,
    /// No `<show/>`: available.
    Available,
    /// Temporarily away (often set by the client's auto-away).
    Away,
    /// Extended away.
    ExtendedAway,
    /// Do not disturb.
    DoNotDisturb,
}

impl ClientShow {
    /// The availability a client claims. Chat is just available: Lampfield has no "eager" state.
    pub fn availability(self) -> Availability {
        match self {
            ClientShow::Chat | ClientShow::Available => Availability::Available,
            ClientShow::Away | ClientShow::ExtendedAway => Availability::Away,
            ClientShow::DoNotDisturb => Availability::DoNotDisturb,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn inactive_and_offline_cannot_be_set_by_hand() {
        assert!(serde_json::from_str::<ManualAvailability>("\"inactive\"").is_err());
        assert!(serde_json::from_str::<ManualAvailability>("\"offline\"").is_err());
        assert!(serde_json::from_str::<Settable>("\"inactive\"").is_err());
        let dnd: ManualAvailability = serde_json::from_str("\"do_not_disturb\"").unwrap();
        assert_eq!(dnd.settable(), Some(Settable::DoNotDisturb));
    }

    #[test]
    fn severity_orders_dnd_busy_away_inactive_available() {
        use Availability::*;
        let order = [DoNotDisturb, Busy, Away, Inactive, Available, Offline];
        for pair in order.windows(2) {
            assert!(pair[0].severity() > pair[1].severity(), "{pair:?}");
        }
    }

    #[test]
    fn busy_and_dnd_map_to_xmpp_dnd() {
        assert_eq!(Availability::Busy.xmpp_show(), Some("dnd"));
        assert_eq!(Availability::DoNotDisturb.xmpp_show(), Some("dnd"));
        assert_eq!(Availability::Available.xmpp_show(), None);
        assert_eq!(Availability::Inactive.xmpp_show(), Some("away"));
        assert_eq!(Availability::Away.xmpp_show(), Some("away"));
    }
}
