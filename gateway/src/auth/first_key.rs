//! The embedded default stays a one-command start: the first `serve` on a store with no key
//! issues an admin key for every hotel and leaves it in `<data-dir>/admin.key`.
//!
//! The first key has a fixed id, so "first start" is decided by the event store, not by a file
//! or a count: two instances starting at once on one PostgreSQL both try to issue the same
//! stream, and optimistic concurrency lets exactly one of them. A store whose first key was
//! revoked later does not get a new one.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use conserje_domain::api_key::{KeyId, KeyName, Role, Scope};
use conserje_domain::metadata::Actor;
use conserje_domain::values::TenantId;
use conserje_domain::EventMetadata;

use super::key_ring::KeyRing;
use crate::error::ApiError;

/// The file, in the data directory, that holds the first admin key alone on one line.
pub const ADMIN_KEY_FILE: &str = "admin.key";

/// The id of the key issued at first start.
const FIRST_KEY_ID: &str = "0000000000000001";

/// What the first start found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstKey {
    /// No key had been issued: one was, and written to this file.
    Created(PathBuf),
    /// The store already had its first key (this file may or may not hold it).
    AlreadyIssued,
}

/// Issues the first admin key unless the store already has it.
pub async fn ensure_first_admin_key(keys: &KeyRing, data_dir: &Path) -> anyhow::Result<FirstKey> {
    let key_id = KeyId::parse(FIRST_KEY_ID).expect("a valid key id");
    if keys.load(&key_id).await?.issued.is_some() {
        return Ok(FirstKey::AlreadyIssued);
    }
    let meta = EventMetadata::new(
        TenantId::operations(),
        Actor::system("first-start"),
        "system",
    );
    let name = KeyName::parse("admin").expect("a valid key name");
    let issued = match keys
        .issue(key_id, name, Role::Admin, Scope::AllHotels, None, meta)
        .await
    {
        Ok(issued) => issued,
        // Another instance issued it a moment ago.
        Err(
            ApiError::Refused {
                code: "already_exists",
                ..
            }
            | ApiError::Conflict,
        ) => return Ok(FirstKey::AlreadyIssued),
        Err(err) => return Err(err.into()),
    };
    let path = data_dir.join(ADMIN_KEY_FILE);
    write_secret(&path, &issued.key)
        .with_context(|| format!("cannot write the first admin key to {}", path.display()))?;
    Ok(FirstKey::Created(path))
}

/// Writes `key` and a newline to `path`, readable by its owner only.
fn write_secret(path: &Path, key: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path)?;
        // An older file keeps its mode on open; the key must not be readable by others.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        writeln!(file, "{key}")?;
        file.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut file = options.open(path)?;
        writeln!(file, "{key}")?;
        file.sync_all()
    }
}
