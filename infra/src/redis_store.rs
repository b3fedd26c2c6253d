//! The key-value read-model store of the distributed profile: Redis, whose own expiry keeps it
//! bounded as long as every key is written with a time to live — which this adapter always does.

use std::time::Duration;

use async_trait::async_trait;
use conserje_projections::key_value::KeyValueStore;
use conserje_projections::ProjectionError;
use redis::aio::ConnectionManager;

use crate::InfraError;

/// How many keys one SCAN step asks for while deleting a prefix: large enough to finish in few
/// round trips, small enough that no single step blocks Redis noticeably.
const SCAN_COUNT: usize = 500;

/// Key-value read models in Redis.
///
/// The connection manager reconnects by itself after Redis restarts, and is cheap to clone: every
/// clone multiplexes commands over the same connection.
#[derive(Clone)]
pub struct RedisKeyValue {
    connection: ConnectionManager,
}

impl std::fmt::Debug for RedisKeyValue {
    // Only the type: the URL may carry a password, and the manager's own state says nothing useful.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisKeyValue").finish_non_exhaustive()
    }
}

impl RedisKeyValue {
    /// Connects to `redis://…` (or `rediss://…`); fails when Redis does not answer, so a
    /// misconfigured deployment stops at start-up rather than at its first guest.
    pub async fn connect(url: &str) -> Result<Self, InfraError> {
        let config = |err: redis::RedisError| InfraError::Config {
            path: redact(url),
            reason: format!("redis: {err}"),
        };
        let client = redis::Client::open(url).map_err(config)?;
        let connection = ConnectionManager::new(client).await.map_err(config)?;
        Ok(Self { connection })
    }
}

/// `url` without its password, fit for an error message that ends up in logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn storage(err: redis::RedisError) -> ProjectionError {
    ProjectionError::Storage(format!("redis: {err}"))
}

/// Milliseconds for PX and PEXPIRE. Redis rejects 0, and a time to live under a millisecond
/// would expire at once anyway, so the floor is 1.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// `prefix` with Redis glob characters escaped, followed by `*`, for SCAN MATCH: a prefix is data
/// and a key containing `*` or `[` must match only itself.
fn match_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('*');
    pattern
}

#[async_trait]
impl KeyValueStore for RedisKeyValue {
    async fn put(&self, key: &str, value: &str, ttl: Duration) -> Result<(), ProjectionError> {
        self.put_many(&[(key.to_owned(), value.to_owned(), ttl)])
            .await
    }

    /// One pipeline (a single round trip) for the whole batch.
    async fn put_many(
        &self,
        entries: &[(String, String, Duration)],
    ) -> Result<(), ProjectionError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection.clone();
        let mut pipe = redis::pipe();
        for (key, value, ttl) in entries {
            pipe.cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(millis(*ttl))
                .ignore();
        }
        pipe.query_async::<()>(&mut connection)
            .await
            .map_err(storage)
    }

    async fn get(&self, key: &str) -> Result<Option<String>, ProjectionError> {
        let mut connection = self.connection.clone();
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(storage)
    }

    async fn add_member(
        &self,
        key: &str,
        member: &str,
        ttl: Duration,
    ) -> Result<(), ProjectionError> {
        let mut connection = self.connection.clone();
        // MULTI/EXEC: a crash between the two would leave a set that never expires.
        redis::pipe()
            .atomic()
            .cmd("SADD")
            .arg(key)
            .arg(member)
            .ignore()
            .cmd("PEXPIRE")
            .arg(key)
            .arg(millis(ttl))
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(storage)
    }

    async fn remove_member(&self, key: &str, member: &str) -> Result<(), ProjectionError> {
        let mut connection = self.connection.clone();
        redis::cmd("SREM")
            .arg(key)
            .arg(member)
            .query_async::<()>(&mut connection)
            .await
            .map_err(storage)
    }

    async fn members(&self, key: &str) -> Result<Vec<String>, ProjectionError> {
        let mut connection = self.connection.clone();
        let mut members: Vec<String> = redis::cmd("SMEMBERS")
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(storage)?;
        // Redis returns a set in no particular order; the port promises sorted.
        members.sort_unstable();
        Ok(members)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, ProjectionError> {
        let mut connection = self.connection.clone();
        let millis: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut connection)
            .await
            .map_err(storage)?;
        // -2: no such key; -1: a key without expiry, which this store never writes (someone
        // else's key), reported as "no time to live" rather than as a made-up duration.
        Ok(u64::try_from(millis).ok().map(Duration::from_millis))
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, ProjectionError> {
        let mut connection = self.connection.clone();
        let pattern = match_pattern(prefix);
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        // SCAN in steps, never KEYS: KEYS blocks Redis for the whole keyspace at once.
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(&mut connection)
                .await
                .map_err(storage)?;
            if !keys.is_empty() {
                // UNLINK frees memory in the background; its count ignores keys already gone,
                // so a key SCAN returns twice is counted once.
                let unlinked: u64 = redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut connection)
                    .await
                    .map_err(storage)?;
                deleted += unlinked;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_of_a_prefix_match_only_themselves() {
        assert_eq!(match_pattern("t/1/"), "t/1/*");
        assert_eq!(match_pattern("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\*");
    }

    #[test]
    fn passwords_stay_out_of_error_messages() {
        assert_eq!(
            redact("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact("redis://host:6379/"), "redis://host:6379/");
    }
}
