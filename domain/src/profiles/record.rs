//! One user's profile data as the node keeps it: the stored value of `userid_profiles`.

use serde::{Deserialize, Serialize};

use super::{Profile, ProfileSettings, ProfileState};

/// What the node keeps about one user's profiles.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileRecord {
    /// The user's own profiles (system ones are left out).
    pub profiles: Vec<Profile>,
    /// Trigger settings; `None` until the user sets them (the node's defaults apply).
    pub settings: Option<ProfileSettings>,
    /// The state machine's state.
    pub state: Option<ProfileState>,
}
