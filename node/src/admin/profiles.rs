//! Presence profiles and calendar import over the admin socket (`lampfield profile ...`,
//! `lampfield calendar import`). These go through the running node's profile runtime, so a switch
//! reaches watchers and connectors at once; without a running node they are refused.
//!
//! An `.ics` file is too large for one socket line: the CLI sends its absolute path and the node
//! reads it (the socket serves only the data folder's owner and root, who can read it anyway),
//! at most the importer's size cap.

use std::path::Path;

use tokio::io::AsyncReadExt;

use super::protocol::{ProfileLine, ProfileOp, ProfilesInfo};
use super::service::{AdminError, Service};
use crate::profile_runtime::ProfileRuntimeError;
use lampfield_domain::calendar::ImportLimits;
use lampfield_domain::presence::ProfileName;
use lampfield_domain::users::parse_user;

impl From<ProfileRuntimeError> for AdminError {
    fn from(e: ProfileRuntimeError) -> Self {
        AdminError::Rules(e.to_string())
    }
}

fn name(text: &str) -> Result<ProfileName, AdminError> {
    ProfileName::new(text).map_err(|e| AdminError::Rules(format!("profile name {e}")))
}

impl Service {
    /// Apply one profile operation for `jid` through the running node's runtime.
    pub(super) async fn profiles(
        &self,
        jid: &str,
        op: ProfileOp,
    ) -> Result<ProfilesInfo, AdminError> {
        let user = parse_user(self.domain(), jid)?;
        let s = self.profile_runtime().ok_or_else(|| {
            AdminError::Rules(
                "profiles and calendars are managed by the running node: start it with \
                 `lampfield run` first"
                    .to_owned(),
            )
        })?;
        let mut info = ProfilesInfo {
            jid: user.to_string(),
            profiles: Vec::new(),
            active: None,
            imported: None,
        };
        let lines = |only: Option<&ProfileName>| -> Result<Vec<ProfileLine>, AdminError> {
            Ok(s.list(&user)?
                .into_iter()
                .filter(|p| only.is_none_or(|n| &p.name == n))
                .map(|p| ProfileLine {
                    name: p.name.to_string(),
                    scope: p.scope,
                    enabled: p.enabled,
                    active: p.active,
                    spec: p.spec,
                })
                .collect())
        };
        match op {
            ProfileOp::List => info.profiles = lines(None)?,
            ProfileOp::Show { name: n } => {
                let n = name(&n)?;
                info.profiles = lines(Some(&n))?;
                if info.profiles.is_empty() {
                    return Err(ProfileRuntimeError::Profile(
                        lampfield_domain::profiles::ProfileError::NotFound(n.to_string()),
                    )
                    .into());
                }
            }
            ProfileOp::Create { name: n, spec } => {
                let n = name(&n)?;
                s.create(&user, n.clone(), spec).await?;
                info.profiles = lines(Some(&n))?;
            }
            ProfileOp::Activate { name: n } => {
                s.activate(&user, &name(&n)?).await?;
            }
            ProfileOp::Deactivate => {
                s.deactivate(&user).await?;
            }
            ProfileOp::Delete { name: n } => s.delete(&user, &name(&n)?).await?,
            ProfileOp::ImportCalendar { path } => {
                let bytes = read_bounded(Path::new(&path)).await?;
                info.imported = Some(s.import_ics(&user, &bytes).await?);
            }
        }
        info.active = s.active(&user)?.map(|a| a.profile.to_string());
        Ok(info)
    }
}

/// The file's bytes, at most one byte past the importer's cap (so it can say "too large").
async fn read_bounded(path: &Path) -> Result<Vec<u8>, AdminError> {
    if !path.is_absolute() {
        return Err(AdminError::Rules(format!(
            "{}: give an absolute path",
            path.display()
        )));
    }
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| AdminError::Rules(format!("{}: {e}", path.display())))?;
    let cap = ImportLimits::default().max_bytes as u64 + 1;
    let mut bytes = Vec::new();
    file.take(cap)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| AdminError::Rules(format!("{}: {e}", path.display())))?;
    Ok(bytes)
}
