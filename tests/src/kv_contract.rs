//! The behaviour every `KeyValueStore` adapter must have, run against each real one (Redis and the
//! embedded SQLite store). Each check writes under its own unique prefix, so checks can share one
//! Redis.

use std::time::Duration;

use conserje_projections::key_value::KeyValueStore;

/// A time to live no check outlives.
const LONG: Duration = Duration::from_secs(600);

/// A time to live short enough to watch expire.
const SHORT: Duration = Duration::from_millis(300);

fn unique_prefix(name: &str) -> String {
    format!("test/{name}/{}/", uuid::Uuid::now_v7().simple())
}

/// Waits until `check` holds, failing after 10 s: expiry is promised, not its punctuality.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A value comes back as written, an overwrite replaces it, and an absent key has none.
pub async fn values_round_trip(store: &dyn KeyValueStore) {
    let prefix = unique_prefix("values");
    let key = format!("{prefix}session");
    assert_eq!(store.get(&key).await.unwrap(), None, "absent at first");
    assert_eq!(store.ttl(&key).await.unwrap(), None, "no ttl when absent");

    store.put(&key, "{\"step\":1}", LONG).await.unwrap();
    assert_eq!(
        store.get(&key).await.unwrap().as_deref(),
        Some("{\"step\":1}")
    );
    store
        .put(&key, "{\"step\":2,\"text\":\"añadir ✓\"}", LONG)
        .await
        .unwrap();
    assert_eq!(
        store.get(&key).await.unwrap().as_deref(),
        Some("{\"step\":2,\"text\":\"añadir ✓\"}"),
        "an overwrite replaces the value"
    );

    let ttl = store.ttl(&key).await.unwrap().expect("a value has a ttl");
    assert!(ttl <= LONG, "ttl {ttl:?} is at most what was set");
    assert!(ttl > LONG / 2, "ttl {ttl:?} is about what was set");
    assert_eq!(
        store.get(&format!("{prefix}other")).await.unwrap(),
        None,
        "other keys are untouched"
    );
}

/// A batch of values written at once: each readable with its own ttl, an existing one replaced,
/// an empty batch a no-op.
pub async fn many_values_at_once(store: &dyn KeyValueStore) {
    let prefix = unique_prefix("many");
    store.put(&format!("{prefix}0"), "old", LONG).await.unwrap();
    let entries: Vec<(String, String, std::time::Duration)> = (0..300)
        .map(|n| {
            let ttl = if n == 1 { LONG / 4 } else { LONG };
            (format!("{prefix}{n}"), format!("v{n}"), ttl)
        })
        .collect();
    store.put_many(&entries).await.unwrap();
    store.put_many(&[]).await.unwrap();
    for n in [0, 1, 150, 299] {
        assert_eq!(
            store.get(&format!("{prefix}{n}")).await.unwrap(),
            Some(format!("v{n}")),
            "key {n}"
        );
    }
    let short = store.ttl(&format!("{prefix}1")).await.unwrap().unwrap();
    assert!(short <= LONG / 4, "each entry keeps its own ttl: {short:?}");
    let long = store.ttl(&format!("{prefix}2")).await.unwrap().unwrap();
    assert!(long > LONG / 2, "{long:?}");
}

/// A value written with a short time to live disappears, and its ttl with it.
pub async fn values_expire(store: &dyn KeyValueStore) {
    let key = format!("{}short", unique_prefix("expiry"));
    store.put(&key, "soon gone", SHORT).await.unwrap();
    eventually("the value to expire", || async {
        store.get(&key).await.unwrap().is_none()
    })
    .await;
    assert_eq!(
        store.ttl(&key).await.unwrap(),
        None,
        "an expired key has no ttl"
    );

    // Writing it again brings it back: expiry is no tombstone.
    store.put(&key, "back", LONG).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().as_deref(), Some("back"));
}

/// Members come back sorted and once each; removing them works; the last one gone takes the set.
pub async fn set_members(store: &dyn KeyValueStore) {
    let key = format!("{}by-guest", unique_prefix("sets"));
    assert!(store.members(&key).await.unwrap().is_empty(), "absent set");
    for member in ["res-3", "res-1", "res-2", "res-1"] {
        store.add_member(&key, member, LONG).await.unwrap();
    }
    assert_eq!(
        store.members(&key).await.unwrap(),
        ["res-1", "res-2", "res-3"],
        "sorted, each member once"
    );

    store.remove_member(&key, "res-2").await.unwrap();
    store.remove_member(&key, "never-there").await.unwrap();
    assert_eq!(store.members(&key).await.unwrap(), ["res-1", "res-3"]);

    store.remove_member(&key, "res-1").await.unwrap();
    store.remove_member(&key, "res-3").await.unwrap();
    assert!(store.members(&key).await.unwrap().is_empty());
    assert_eq!(
        store.ttl(&key).await.unwrap(),
        None,
        "a set without members no longer exists"
    );
}

/// Adding a member (re)sets the set's time to live; the whole set expires, and a set written
/// after it expired starts empty.
pub async fn sets_expire(store: &dyn KeyValueStore) {
    let prefix = unique_prefix("set-expiry");
    let key = format!("{prefix}by-guest");
    store
        .add_member(&key, "a", Duration::from_secs(60))
        .await
        .unwrap();
    let first = store.ttl(&key).await.unwrap().expect("a set has a ttl");
    assert!(first <= Duration::from_secs(60));
    store.add_member(&key, "b", LONG).await.unwrap();
    let second = store.ttl(&key).await.unwrap().expect("a set has a ttl");
    assert!(
        second > Duration::from_secs(60),
        "adding a member resets the ttl: {second:?}"
    );

    let short = format!("{prefix}short");
    store.add_member(&short, "old", SHORT).await.unwrap();
    eventually("the set to expire", || async {
        store.members(&short).await.unwrap().is_empty()
    })
    .await;
    assert_eq!(store.ttl(&short).await.unwrap(), None);
    store.add_member(&short, "new", LONG).await.unwrap();
    assert_eq!(
        store.members(&short).await.unwrap(),
        ["new"],
        "members of an expired set do not come back"
    );
}

/// `delete_prefix` deletes values and sets under the prefix and nothing else, even when the prefix
/// holds glob characters.
pub async fn delete_prefix_deletes_only_that_prefix(store: &dyn KeyValueStore) {
    let root = unique_prefix("delete");
    let doomed = format!("{root}tenant-a/");
    store
        .put(&format!("{doomed}session/1"), "x", LONG)
        .await
        .unwrap();
    store
        .put(&format!("{doomed}session/2"), "y", LONG)
        .await
        .unwrap();
    store
        .add_member(&format!("{doomed}by-guest/1"), "res-1", LONG)
        .await
        .unwrap();
    // Shares the prefix's characters but not the prefix itself.
    let sibling = format!("{root}tenant-ab/session/1");
    store.put(&sibling, "keep", LONG).await.unwrap();
    let sibling_set = format!("{root}tenant-b/by-guest/1");
    store.add_member(&sibling_set, "res-2", LONG).await.unwrap();

    assert_eq!(store.delete_prefix(&doomed).await.unwrap(), 3);
    assert_eq!(
        store.get(&format!("{doomed}session/1")).await.unwrap(),
        None
    );
    assert_eq!(
        store.get(&format!("{doomed}session/2")).await.unwrap(),
        None
    );
    assert!(store
        .members(&format!("{doomed}by-guest/1"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.get(&sibling).await.unwrap().as_deref(), Some("keep"));
    assert_eq!(store.members(&sibling_set).await.unwrap(), ["res-2"]);
    assert_eq!(
        store.delete_prefix(&doomed).await.unwrap(),
        0,
        "nothing left to delete"
    );

    // Glob characters in a prefix are literal: `x*` must not reach `xy`.
    let glob = format!("{root}x*");
    store
        .put(&format!("{glob}/1"), "literal star", LONG)
        .await
        .unwrap();
    let lookalike = format!("{root}xy/1");
    store.put(&lookalike, "keep", LONG).await.unwrap();
    let bracket = format!("{root}[ab]%_/");
    store.put(&format!("{bracket}1"), "z", LONG).await.unwrap();
    let bracket_lookalike = format!("{root}a/1");
    store.put(&bracket_lookalike, "keep", LONG).await.unwrap();
    assert_eq!(store.delete_prefix(&glob).await.unwrap(), 1);
    assert_eq!(store.delete_prefix(&bracket).await.unwrap(), 1);
    assert_eq!(
        store.get(&lookalike).await.unwrap().as_deref(),
        Some("keep")
    );
    assert_eq!(
        store.get(&bracket_lookalike).await.unwrap().as_deref(),
        Some("keep")
    );

    // Prefixes are case-sensitive, like keys.
    let upper = format!("{root}CASE/1");
    store.put(&upper, "keep", LONG).await.unwrap();
    assert_eq!(
        store.delete_prefix(&format!("{root}case/")).await.unwrap(),
        0
    );
    assert_eq!(store.get(&upper).await.unwrap().as_deref(), Some("keep"));

    store.delete_prefix(&root).await.unwrap();
}
