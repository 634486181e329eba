//! Per-user calendars: `userid_calendar` (appointments and the sharing choice). The subject of a
//! private appointment is stored for its owner and never leaves the node (see
//! `calendar::Subject`).

use jid::BareJid;

use super::records;
use super::schema::{self, USERID_CALENDAR};
use super::{Store, StoreError};
use lampfield_domain::calendar::CalendarRecord;

impl Store {
    /// The stored calendar of `user`; `None` if nothing was ever stored.
    pub fn calendar_record(&self, user: &BareJid) -> Result<Option<CalendarRecord>, StoreError> {
        self.calendar
            .get(schema::account_key(user))?
            .map(|v| records::decode(USERID_CALENDAR, &v))
            .transpose()
    }

    /// Store `user`'s calendar; durable on return (refused without an account, as above).
    pub async fn put_calendar_record(
        &self,
        user: &BareJid,
        record: &CalendarRecord,
    ) -> Result<(), StoreError> {
        let value = records::encode(USERID_CALENDAR, record)?;
        self.calendar.insert(schema::account_key(user), value)?;
        if !self.account_exists(user)? {
            self.calendar.remove(schema::account_key(user))?;
            return Err(StoreError::NoAccount(user.to_string()));
        }
        self.flush().await
    }
}
