//! Both key-value read-model stores pass the key-value contract: Redis (the distributed profile)
//! and the embedded SQLite store.

use std::time::Duration;

use conserje_infra::embedded_log::SqliteLog;
use conserje_infra::redis_store::RedisKeyValue;
use conserje_infra::sqlite_kv::SqliteKeyValue;
use conserje_projections::key_value::KeyValueStore;
use conserje_tests::kv_contract;
use tempfile::TempDir;

/// The Redis of the test run. Fails, never skips, without it: a skipped adapter is an untested one.
async fn redis() -> RedisKeyValue {
    let url = std::env::var("CONSERJE_TEST_REDIS_URL").expect(
        "CONSERJE_TEST_REDIS_URL is not set: run the suite with scripts/test.sh, which starts \
         a throwaway Redis and sets it",
    );
    RedisKeyValue::connect(&url)
        .await
        .expect("cannot connect to the test Redis at CONSERJE_TEST_REDIS_URL")
}

async fn sqlite() -> (SqliteKeyValue, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = SqliteLog::open(&dir.path().join("embedded.db"), 3)
        .await
        .expect("the embedded file opens");
    (log.key_value(), dir)
}

mod redis_store {
    use super::*;

    #[tokio::test]
    async fn values_round_trip() {
        kv_contract::values_round_trip(&redis().await).await;
    }

    #[tokio::test]
    async fn values_expire() {
        kv_contract::values_expire(&redis().await).await;
    }

    #[tokio::test]
    async fn many_values_at_once() {
        kv_contract::many_values_at_once(&redis().await).await;
    }

    #[tokio::test]
    async fn set_members() {
        kv_contract::set_members(&redis().await).await;
    }

    #[tokio::test]
    async fn sets_expire() {
        kv_contract::sets_expire(&redis().await).await;
    }

    #[tokio::test]
    async fn delete_prefix_deletes_only_that_prefix() {
        kv_contract::delete_prefix_deletes_only_that_prefix(&redis().await).await;
    }

    #[tokio::test]
    async fn delete_prefix_walks_more_than_one_scan_step() {
        let store = redis().await;
        let prefix = format!("test/many/{}/", uuid::Uuid::now_v7().simple());
        let writes = (0..1200).map(|n| {
            let store = store.clone();
            let key = format!("{prefix}{n}");
            async move { store.put(&key, "v", Duration::from_secs(600)).await }
        });
        for written in futures::future::join_all(writes).await {
            written.expect("put");
        }
        assert_eq!(store.delete_prefix(&prefix).await.unwrap(), 1200);
        assert_eq!(store.get(&format!("{prefix}7")).await.unwrap(), None);
    }
}

mod sqlite_store {
    use super::*;

    #[tokio::test]
    async fn values_round_trip() {
        let (store, _dir) = sqlite().await;
        kv_contract::values_round_trip(&store).await;
    }

    #[tokio::test]
    async fn values_expire() {
        let (store, _dir) = sqlite().await;
        kv_contract::values_expire(&store).await;
    }

    #[tokio::test]
    async fn many_values_at_once() {
        let (store, _dir) = sqlite().await;
        kv_contract::many_values_at_once(&store).await;
    }

    #[tokio::test]
    async fn set_members() {
        let (store, _dir) = sqlite().await;
        kv_contract::set_members(&store).await;
    }

    #[tokio::test]
    async fn sets_expire() {
        let (store, _dir) = sqlite().await;
        kv_contract::sets_expire(&store).await;
    }

    #[tokio::test]
    async fn delete_prefix_deletes_only_that_prefix() {
        let (store, _dir) = sqlite().await;
        kv_contract::delete_prefix_deletes_only_that_prefix(&store).await;
    }

    /// Expired rows stay in the file until purged; purging deletes them and nothing live.
    #[tokio::test]
    async fn purge_expired_removes_expired_rows() {
        let (store, _dir) = sqlite().await;
        let short = Duration::from_millis(300);
        let long = Duration::from_secs(600);
        store.put("gone/value", "x", short).await.unwrap();
        store.add_member("gone/set", "a", short).await.unwrap();
        store.add_member("gone/set", "b", short).await.unwrap();
        store.put("kept/value", "y", long).await.unwrap();
        store.add_member("kept/set", "c", long).await.unwrap();

        conserje_tests::eventually("the short keys to expire", || async {
            store.get("gone/value").await.unwrap().is_none()
                && store.members("gone/set").await.unwrap().is_empty()
        })
        .await;
        let rows = |sql: &'static str| {
            let pool = store.pool().clone();
            async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            rows("SELECT count(*) FROM kv_values").await,
            2,
            "reads skip expired rows, they do not delete them"
        );

        assert_eq!(
            store.purge_expired().await.unwrap(),
            2,
            "one value, one set"
        );
        assert_eq!(rows("SELECT count(*) FROM kv_values").await, 1);
        assert_eq!(rows("SELECT count(*) FROM kv_sets").await, 1);
        assert_eq!(
            rows("SELECT count(*) FROM kv_set_members").await,
            1,
            "an expired set's members go with it"
        );
        assert_eq!(store.get("kept/value").await.unwrap().as_deref(), Some("y"));
        assert_eq!(store.members("kept/set").await.unwrap(), ["c"]);
        assert_eq!(
            store.purge_expired().await.unwrap(),
            0,
            "nothing left to purge"
        );
    }

    /// The store shares the log's file: what the log's pool sees, a second handle sees.
    #[tokio::test]
    async fn the_store_shares_the_log_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("embedded.db");
        let log = SqliteLog::open(&path, 3).await.unwrap();
        SqliteKeyValue::new(log.pool().clone())
            .put("k", "v", Duration::from_secs(600))
            .await
            .unwrap();
        drop(log);
        let reopened = SqliteLog::open(&path, 3).await.unwrap().key_value();
        assert_eq!(reopened.get("k").await.unwrap().as_deref(), Some("v"));
    }
}
