//! The PMS latency a guest pays for an availability answer, with and without the cache.
//!
//! Against the QloApps simulator answering in `CONSERJE_BENCH_PMS_LATENCY_MS` (30 ms, a PHP shop
//! on a nearby network) it times, for the same random stays over the next 60 days:
//! - **raw**: the QloApps adapter alone, one `hotel_ari` search per question (the baseline);
//! - **guarded, live**: through the breaker and bulkhead with the cache never fresh;
//! - **guarded, cached**: with the cache warmed (what `serve` does);
//!
//! and the same live/cached pair with latency spikes of 3 s on 30 % of the calls. It prints
//! p50/p95/max of each and the ratios to the raw baseline of the same run.
//!
//! `cargo bench -p conserje-tests --bench pms_latency` (`CONSERJE_BENCH_QUESTIONS`, default 200;
//! the spike rounds ask a quarter as many).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use conserje_domain::ports::Pms;
use conserje_domain::stay::StayDates;
use conserje_domain::values::{RoomType, TenantId};
use conserje_infra::clock::SystemClock;
use conserje_infra::config::QloAppsSettings;
use conserje_infra::pms::guarded::{CacheSettings, GuardSettings, GuardedPms};
use conserje_infra::pms::qloapps::QloApps;
use conserje_tests::pms::QLOAPPS_KEY;
use conserje_tests::simulators::qloapps::{QloAppsSimulator, SimHotel};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Question `n`'s room type and stay: one to four nights starting within 55 days.
fn question(n: u64, today: NaiveDate) -> (RoomType, StayDates) {
    let mixed = n.wrapping_mul(2_654_435_761) % 1_000_003;
    let room = ["standard", "double", "king", "suite"][(mixed % 4) as usize];
    let check_in = today + Days::new(1 + mixed % 55);
    let nights = 1 + (mixed / 7) % 4;
    let stay = StayDates::for_availability(check_in, check_in + Days::new(nights), today)
        .expect("a valid stay");
    (RoomType::parse(room).expect("a room type"), stay)
}

struct Figures {
    p50: Duration,
    p95: Duration,
    max: Duration,
}

async fn measure(pms: &dyn Pms, questions: u64, today: NaiveDate) -> Figures {
    let tenant = TenantId::parse("default").unwrap();
    let mut took = Vec::new();
    for n in 0..questions {
        let (room, stay) = question(n, today);
        let started = Instant::now();
        pms.availability(&tenant, &room, &stay, None)
            .await
            .expect("the PMS answers");
        took.push(started.elapsed());
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    Figures {
        p50: at(0.50),
        p95: at(0.95),
        max: *took.last().unwrap(),
    }
}

fn guarded(adapter: Arc<dyn Pms>, fresh_for: Duration) -> GuardedPms {
    let settings = GuardSettings {
        cache: CacheSettings {
            fresh_for,
            ..CacheSettings::default()
        },
        ..GuardSettings::default()
    };
    GuardedPms::new(
        TenantId::parse("default").unwrap(),
        adapter,
        settings,
        Arc::new(SystemClock),
    )
}

fn ms(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        format!("{:.2} ms", d.as_secs_f64() * 1000.0)
    }
}

fn line(name: &str, f: &Figures, raw: &Figures) {
    println!(
        "{name:<28} p50 {:>11}  p95 {:>11}  max {:>11}   p50 {:>9.5}x raw, p95 {:>9.5}x raw",
        ms(f.p50),
        ms(f.p95),
        ms(f.max),
        f.p50.as_secs_f64() / raw.p50.as_secs_f64(),
        f.p95.as_secs_f64() / raw.p95.as_secs_f64(),
    );
}

#[tokio::main]
async fn main() {
    let latency = Duration::from_millis(setting("CONSERJE_BENCH_PMS_LATENCY_MS", 30));
    let questions = setting("CONSERJE_BENCH_QUESTIONS", 200).max(4);
    let today = Utc::now().date_naive();
    let sim = QloAppsSimulator::start(QLOAPPS_KEY, SimHotel::sample()).await;
    sim.set_latency(latency);
    let settings = QloAppsSettings {
        base_url: sim.base_url(),
        api_key: QLOAPPS_KEY.to_owned(),
        id_hotel: 1,
        room_types: [
            ("standard", 11),
            ("double", 12),
            ("king", 13),
            ("suite", 14),
        ]
        .into_iter()
        .map(|(code, id)| (RoomType::parse(code).unwrap(), id))
        .collect(),
    };
    let adapter: Arc<dyn Pms> = Arc::new(QloApps::new(settings, Duration::from_secs(10)));
    println!(
        "PMS latency per availability answer: QloApps simulator at {} per call, {questions} questions",
        ms(latency)
    );

    let raw = measure(adapter.as_ref(), questions, today).await;
    line("raw adapter (baseline)", &raw, &raw);
    let live = guarded(adapter.clone(), Duration::ZERO);
    line(
        "guarded, live",
        &measure(&live, questions, today).await,
        &raw,
    );
    let cached = guarded(adapter.clone(), CacheSettings::default().fresh_for);
    let warm = Instant::now();
    let nights = cached.refresh().await.expect("the cache warms");
    println!(
        "  (cache warmed: {nights} room-type nights in {})",
        ms(warm.elapsed())
    );
    line(
        "guarded, cached",
        &measure(&cached, questions, today).await,
        &raw,
    );

    let spiky = (questions / 4).max(4);
    sim.set_spikes(0.3, Duration::from_secs(3));
    println!("with spikes of 3 s on 30 % of the calls, {spiky} questions:");
    let live = guarded(adapter.clone(), Duration::ZERO);
    line(
        "guarded, live, spikes",
        &measure(&live, spiky, today).await,
        &raw,
    );
    line(
        "guarded, cached, spikes",
        &measure(&cached, spiky, today).await,
        &raw,
    );
}
