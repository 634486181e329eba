//! Per-user profile data: `userid_profiles` (the user's own profiles, trigger settings and the
//! profile state machine's state). System profiles are not stored: they come from the
//! configuration on every start.

use jid::BareJid;

use super::records;
use super::schema::{self, USERID_PROFILES};
use super::{Store, StoreError};
use lampfield_domain::profiles::ProfileRecord;

impl Store {
    /// The stored profile record of `user`; `None` if nothing was ever stored.
    pub fn profile_record(&self, user: &BareJid) -> Result<Option<ProfileRecord>, StoreError> {
        self.profiles
            .get(schema::account_key(user))?
            .map(|v| records::decode(USERID_PROFILES, &v))
            .transpose()
    }

    /// Store `user`'s profile record; durable on return. Refused for users without an account, so
    /// a write racing an account removal leaves nothing behind.
    pub async fn put_profile_record(
        &self,
        user: &BareJid,
        record: &ProfileRecord,
    ) -> Result<(), StoreError> {
        let value = records::encode(USERID_PROFILES, record)?;
        self.profiles.insert(schema::account_key(user), value)?;
        if !self.account_exists(user)? {
            self.profiles.remove(schema::account_key(user))?;
            return Err(StoreError::NoAccount(user.to_string()));
        }
        self.flush().await
    }

    /// Users with a stored profile record (evaluated again when the node starts).
    pub fn users_with_profiles(&self) -> Result<Vec<BareJid>, StoreError> {
        self.profiles
            .iter()
            .keys()
            .map(|k| schema::jid_of(USERID_PROFILES, &k?))
            .collect()
    }

    /// Forget profiles and calendar of a removed account (not flushed: the caller flushes).
    pub(super) fn remove_profiles_of(&self, user: &BareJid) -> Result<(), StoreError> {
        self.profiles.remove(schema::account_key(user))?;
        self.calendar.remove(schema::account_key(user))?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::records::Account;
    use lampfield_domain::calendar::{Appointment, CalendarRecord, Sharing, ShowAs};
    use lampfield_domain::presence::{Note, Timestamp};
    use lampfield_domain::profiles::ProfileState;

    fn account() -> Account {
        let scram = records::Scram {
            salt: vec![1],
            iterations: 1,
            stored_key: vec![2],
            server_key: vec![3],
        };
        Account {
            scram_sha1: scram.clone(),
            scram_sha256: scram,
        }
    }

    #[tokio::test]
    async fn profiles_and_calendars_round_trip_and_go_with_the_account() {
        let store = Store::temporary().unwrap();
        let alice = BareJid::new("alice@example.org").unwrap();
        let record = ProfileRecord {
            state: Some(ProfileState::new(Timestamp::from_unix_ms(5))),
            ..ProfileRecord::default()
        };
        let t = Timestamp::from_unix_ms;
        let calendar = CalendarRecord {
            appointments: vec![
                Appointment::new(t(1), t(2), ShowAs::Busy)
                    .unwrap()
                    .with_subject(Note::new("Dentist").unwrap())
                    .with_private(true),
            ],
            sharing: Some(Sharing::PublicOnly),
        };
        // No account, no record: a write racing a removal leaves nothing.
        assert!(store.put_profile_record(&alice, &record).await.is_err());
        assert!(store.profile_record(&alice).unwrap().is_none());

        store.create_account(&alice, &account()).await.unwrap();
        store.put_profile_record(&alice, &record).await.unwrap();
        store.put_calendar_record(&alice, &calendar).await.unwrap();
        assert_eq!(store.profile_record(&alice).unwrap(), Some(record));
        let back = store.calendar_record(&alice).unwrap().unwrap();
        assert_eq!(back, calendar);
        assert_eq!(back.appointments[0].owner_subject(), Some("Dentist"));
        assert_eq!(store.users_with_profiles().unwrap(), vec![alice.clone()]);

        store.remove_account(&alice).await.unwrap();
        assert!(store.profile_record(&alice).unwrap().is_none());
        assert!(store.calendar_record(&alice).unwrap().is_none());
    }
}
