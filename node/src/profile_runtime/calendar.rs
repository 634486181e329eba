//! The calendar side of the runtime: appointments set over the API or imported from an `.ics`
//! file, and the sharing choice. Each change is one [`Event::Tick`] for the profile state machine,
//! so an appointment that is already running activates its profile at once.

use jid::BareJid;
use serde::{Deserialize, Serialize};

use super::{MAX_STORED_APPOINTMENTS, ProfileRuntime, ProfileRuntimeError};
use crate::engine::now;
use lampfield_domain::calendar::{self, Appointment, ImportLimits, ImportOptions, Sharing};
use lampfield_domain::profiles::Event;

/// The outcome of an `.ics` import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Appointments stored (in the import window).
    pub imported: usize,
    /// Events that could not be read or were cancelled.
    pub skipped: usize,
    /// A cap cut the result short.
    pub truncated: bool,
}

impl ProfileRuntime {
    /// `user`'s stored appointments and sharing choice (for the owner: subjects included).
    pub fn calendar(
        &self,
        user: &BareJid,
    ) -> Result<(Vec<Appointment>, Sharing), ProfileRuntimeError> {
        let data = self.load(user)?;
        Ok((
            data.calendar.appointments,
            data.calendar.sharing.unwrap_or_default(),
        ))
    }

    /// Replace `user`'s appointments.
    pub async fn set_appointments(
        &self,
        user: &BareJid,
        mut appointments: Vec<Appointment>,
    ) -> Result<(), ProfileRuntimeError> {
        if appointments.len() > MAX_STORED_APPOINTMENTS {
            return Err(ProfileRuntimeError::Invalid(format!(
                "at most {MAX_STORED_APPOINTMENTS} appointments"
            )));
        }
        appointments.sort_by_key(|a| a.start);
        self.apply(user, Event::Tick, move |d| {
            d.calendar.appointments = appointments;
            Ok(())
        })
        .await
        .map(drop)
    }

    /// Replace `user`'s appointments with those of an `.ics` file in the import window (now to
    /// `[profiles] import_days` ahead), recurring events expanded in the user's zone.
    pub async fn import_ics(
        &self,
        user: &BareJid,
        bytes: &[u8],
    ) -> Result<ImportSummary, ProfileRuntimeError> {
        let zone = self.settings(user)?.zone;
        let start = now();
        let days = u64::from(self.inner.config.import_days);
        let opts = ImportOptions {
            window_start: start,
            window_end: start.saturating_add(std::time::Duration::from_secs(days * 86_400)),
            zone,
            owner_addresses: &[user.to_string()],
            limits: ImportLimits {
                max_occurrences: MAX_STORED_APPOINTMENTS,
                ..ImportLimits::default()
            },
        };
        let imported = calendar::import_ics(bytes, &opts)?;
        let summary = ImportSummary {
            imported: imported.appointments.len(),
            skipped: imported.skipped,
            truncated: imported.truncated,
        };
        self.set_appointments(user, imported.appointments).await?;
        Ok(summary)
    }

    /// Set what `user` shares of their calendar.
    pub async fn set_sharing(
        &self,
        user: &BareJid,
        sharing: Sharing,
    ) -> Result<(), ProfileRuntimeError> {
        self.apply(user, Event::Tick, move |d| {
            d.calendar.sharing = Some(sharing);
            Ok(())
        })
        .await
        .map(drop)
    }
}
