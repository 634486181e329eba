//! Which kinds of device are online, and the "mobile only" hint (CLINQ S3).
//!
//! CLINQ shows the mobile indicator "only when the desktop app is otherwise offline; in all other
//! cases the desktop app's status wins". A web client is a desk-bound client too, so it also
//! suppresses the hint.

use serde::{Deserialize, Serialize};

/// The kind of a client device, as the XMPP adapter classifies a resource (from caps or the
/// resource name). Unknown clients are classified `Desktop`: that never claims "mobile only" falsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A desktop application.
    Desktop,
    /// A mobile application.
    Mobile,
    /// A browser client.
    Web,
    /// A desk phone or softphone (an XMPP-capable phone, or a registered PBX line).
    Phone,
}

/// Which kinds of device are online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Devices {
    /// A desktop client is connected.
    pub desktop: bool,
    /// A mobile client is connected.
    pub mobile: bool,
    /// A web client is connected.
    pub web: bool,
    /// A phone is registered (an XMPP phone client, or a PBX line that is not out of order).
    pub phone: bool,
}

impl Devices {
    /// Marks a device kind as online.
    pub fn add(&mut self, kind: DeviceKind) {
        match kind {
            DeviceKind::Desktop => self.desktop = true,
            DeviceKind::Mobile => self.mobile = true,
            DeviceKind::Web => self.web = true,
            DeviceKind::Phone => self.phone = true,
        }
    }

    /// S3: a mobile client is online and neither a desktop nor a web client is.
    pub fn mobile_only(self) -> bool {
        self.mobile && !self.desktop && !self.web
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mobile_only_needs_mobile_without_desktop_or_web() {
        let mut d = Devices::default();
        assert!(!d.mobile_only());
        d.add(DeviceKind::Mobile);
        assert!(d.mobile_only());
        d.add(DeviceKind::Phone);
        assert!(
            d.mobile_only(),
            "a desk phone does not hide the mobile hint"
        );
        d.add(DeviceKind::Web);
        assert!(!d.mobile_only());
    }
}
