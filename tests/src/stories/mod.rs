//! The data-driven conversation suite: every story under `tests/conversations` (see its
//! README) played against the real service and scored per locale.
//!
//! The stories are data so that people who know how guests write can add them without touching
//! Rust; this module is the runner. One service (the embedded default on SQLite) serves the
//! whole suite with its clock stopped at today 12:00 in Madrid; each story talks as its own
//! guest, so stories run concurrently without seeing each other.

pub mod checks;
pub mod dates;
pub mod play;
pub mod score;
pub mod story;

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::{FutureExt, StreamExt};
use tempfile::TempDir;

use crate::channels::channel_config;
use crate::{fresh_store, FixedClock, StoreKind, TestApp};
use play::Failure;
use score::StoryResult;

/// The hotel's time zone: "today" and the desk's hours are Madrid's.
pub const HOTEL_TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Madrid;

/// One story file found under the root.
#[derive(Debug, Clone)]
pub struct StoryFile {
    pub path: PathBuf,
    /// The path under the root, with `/`: what `CONSERJE_STORIES` filters and reports show.
    pub relative: String,
    /// Its first folder: the locale it is filed under.
    pub folder: String,
}

/// The `.toml` files under `root` (any depth) whose relative path contains `filter`, sorted.
pub fn discover(root: &Path, filter: Option<&str>) -> Vec<StoryFile> {
    let mut found = vec![];
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let folder = match relative.split_once('/') {
                    Some((first, _)) => first.to_owned(),
                    None => String::new(),
                };
                found.push(StoryFile {
                    path,
                    relative,
                    folder,
                });
            }
        }
    }
    found.retain(|f| filter.is_none_or(|filter| f.relative.contains(filter)));
    found.sort_by(|a, b| a.relative.cmp(&b.relative));
    found
}

/// When in the hotel's day a story is played: the front desk is open at noon and closed at
/// 23:30 (business hours 09:00–21:00), which changes greetings and handoffs, not bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Clock {
    Day,
    Night,
}

impl Clock {
    pub const ALL: [Clock; 2] = [Clock::Day, Clock::Night];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "day" => Some(Self::Day),
            "night" => Some(Self::Night),
            _ => None,
        }
    }

    fn local_time(self) -> chrono::NaiveTime {
        let (h, m) = match self {
            Self::Day => (12, 0),
            Self::Night => (23, 30),
        };
        chrono::NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
    }

    /// The clock a story file asks for; a file that does not parse plays by day (and fails
    /// when it is loaded, with its own message).
    pub fn of(file: &StoryFile) -> Self {
        std::fs::read_to_string(&file.path)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|table| table.get("clock")?.as_str().and_then(Self::parse))
            .unwrap_or(Self::Day)
    }
}

/// Today in Madrid, and 12:00 of it there as an instant: the suite's daytime clock.
pub fn madrid_midday(now: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>) {
    madrid_at(now, Clock::Day)
}

/// Today in Madrid, and `clock`'s time of it there as an instant.
pub fn madrid_at(now: DateTime<Utc>, clock: Clock) -> (NaiveDate, DateTime<Utc>) {
    let today = now.with_timezone(&HOTEL_TIME_ZONE).date_naive();
    let local = today.and_time(clock.local_time());
    let instant = HOTEL_TIME_ZONE
        .from_local_datetime(&local)
        .single()
        .expect("no time change happens at noon or 23:30 in Madrid")
        .with_timezone(&Utc);
    (today, instant)
}

/// Who a story talks as: its own WhatsApp number and Telegram chat, derived from its path so
/// that a failing story is the same guest on every run.
#[derive(Debug, Clone)]
pub struct Guest {
    pub wa_id: String,
    pub chat_id: i64,
    /// The story's number in the run: makes its Telegram update ids unique.
    pub serial: i64,
}

impl Guest {
    /// The guest ref of its session on `channel`: the wa_id or the chat id.
    pub fn reference(&self, channel: story::Channel) -> String {
        match channel {
            story::Channel::WhatsApp => self.wa_id.clone(),
            story::Channel::Telegram => self.chat_id.to_string(),
        }
    }
}

/// FNV-1a: stable across Rust releases, unlike the standard hasher.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A guest for each file, distinct from one another.
pub fn guests(files: &[StoryFile]) -> Vec<Guest> {
    let mut taken = HashSet::new();
    files
        .iter()
        .enumerate()
        .map(|(serial, file)| {
            let mut salt = 0u32;
            loop {
                let hash = stable_hash(&format!("{}#{salt}", file.relative));
                // +34 69x xxx xxx: a valid Spanish mobile, so bookings take it as the phone.
                let wa_id = format!("3469{:07}", hash % 10_000_000);
                let chat_id = 100_000_000 + (hash % 8_000_000_000) as i64;
                if taken.insert(wa_id.clone()) && taken.insert(chat_id.to_string()) {
                    return Guest {
                        wa_id,
                        chat_id,
                        serial: serial as i64 + 1,
                    };
                }
                salt += 1;
            }
        })
        .collect()
}

/// The service the stories talk to.
/// The configuration with every room type's `inventory = N` raised to 1,000.
fn with_big_inventory(config: &str) -> String {
    config
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("inventory =") {
                "inventory = 1000".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub struct Suite {
    pub app: TestApp,
    pub today: NaiveDate,
    _dir: TempDir,
}

impl Suite {
    /// The embedded default with both webhooks configured, its clock at today 12:00 in Madrid.
    pub async fn open() -> Self {
        Self::open_at(Clock::Day).await
    }

    /// [`Self::open`] with the clock at `clock`'s time of today in Madrid.
    pub async fn open_at(clock: Clock) -> Self {
        let (today, midday) = madrid_at(Utc::now(), clock);
        let (mut options, dir) = fresh_store(StoreKind::Sqlite).await;
        let config = channel_config(dir.path());
        // Every story books on its own, concurrently with the others, often the same nights:
        // the hotel is made big enough that no story finds its room taken by another's.
        let text = std::fs::read_to_string(&config).expect("read the channel config");
        let text = with_big_inventory(&text);
        std::fs::write(&config, text).expect("write the suite's config");
        options.config = Some(config);
        // Hundreds of stories read their transcripts with the one admin key: the per-key limit
        // guards a real deployment, not this harness.
        options.access.api_rate_limit_per_minute = 0;
        let app = TestApp::spawn_with_clock(&options, Arc::new(FixedClock(midday))).await;
        Self {
            app,
            today,
            _dir: dir,
        }
    }

    /// Plays `files`, `parallel` at a time (each story's turns in order).
    pub async fn run(&self, files: &[StoryFile], parallel: usize) -> Vec<StoryResult> {
        let guests = guests(files);
        futures::stream::iter(files.iter().zip(guests))
            .map(|(file, guest)| self.run_one(file, guest))
            .buffer_unordered(parallel.max(1))
            .collect()
            .await
    }

    async fn run_one(&self, file: &StoryFile, guest: Guest) -> StoryResult {
        let mut result = StoryResult {
            relative: file.relative.clone(),
            folder: file.folder.clone(),
            title: None,
            outcome: Ok(()),
            turn_times: vec![],
        };
        if file.folder.is_empty() {
            result.outcome = Err(Failure::of_file(
                "not filed under a locale folder (es/, en/, pt-BR/, pt-PT/)".to_owned(),
            ));
            return result;
        }
        let story = match story::load(&file.path, &file.folder, self.today) {
            Ok(story) => story,
            Err(problem) => {
                result.outcome = Err(Failure::of_file(problem));
                return result;
            }
        };
        result.title = Some(story.title.clone());
        let mut turn_times = vec![];
        let played = AssertUnwindSafe(play::play(
            &self.app,
            &story,
            &guest,
            self.today,
            &mut turn_times,
        ))
        .catch_unwind()
        .await;
        result.turn_times = turn_times;
        result.outcome = match played {
            Ok(outcome) => outcome,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "a panic".to_owned());
                Err(Failure::of_file(format!("the runner panicked: {message}")))
            }
        };
        result
    }

    pub async fn stop(self) {
        self.app.stop().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suite_clock_is_noon_in_madrid_in_winter_and_summer() {
        let winter = Utc.with_ymd_and_hms(2026, 11, 22, 23, 30, 0).unwrap();
        let (today, noon) = madrid_midday(winter);
        assert_eq!(today, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(noon, Utc.with_ymd_and_hms(2026, 11, 23, 11, 0, 0).unwrap());
        let summer = Utc.with_ymd_and_hms(2027, 7, 1, 6, 0, 0).unwrap();
        let (today, noon) = madrid_midday(summer);
        assert_eq!(today, NaiveDate::from_ymd_opt(2027, 7, 1).unwrap());
        assert_eq!(noon, Utc.with_ymd_and_hms(2027, 7, 1, 10, 0, 0).unwrap());
    }

    #[test]
    fn each_story_gets_its_own_stable_guest() {
        let files: Vec<StoryFile> = (0..300)
            .map(|i| StoryFile {
                path: PathBuf::from(format!("/nowhere/es/{i:03}.toml")),
                relative: format!("es/{i:03}.toml"),
                folder: "es".to_owned(),
            })
            .collect();
        let first = guests(&files);
        let again = guests(&files);
        let ids: HashSet<&str> = first.iter().map(|g| g.wa_id.as_str()).collect();
        assert_eq!(ids.len(), files.len());
        let chats: HashSet<i64> = first.iter().map(|g| g.chat_id).collect();
        assert_eq!(chats.len(), files.len());
        for (a, b) in first.iter().zip(&again) {
            assert_eq!((&a.wa_id, a.chat_id), (&b.wa_id, b.chat_id));
            assert!(a.wa_id.starts_with("3469") && a.wa_id.len() == 11);
            assert!(a.wa_id.bytes().all(|b| b.is_ascii_digit()));
            assert!(a.chat_id > 0);
        }
    }

    #[test]
    fn discovery_filters_by_the_relative_path() {
        let root = tempfile::tempdir().unwrap();
        for file in [
            "es/001-a.toml",
            "pt-BR/001-b.toml",
            "pt-PT/002-c.toml",
            "README.md",
        ] {
            let path = root.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let all: Vec<String> = discover(root.path(), None)
            .into_iter()
            .map(|f| f.relative)
            .collect();
        assert_eq!(
            all,
            ["es/001-a.toml", "pt-BR/001-b.toml", "pt-PT/002-c.toml"]
        );
        let pt = discover(root.path(), Some("pt-PT/0"));
        assert_eq!(pt.len(), 1);
        assert_eq!(pt[0].folder, "pt-PT");
    }
}
