//! Outbound pacing, end to end against a Telegram simulator that enforces flood control: a burst
//! of replies to one chat goes out at the pace Telegram takes, in order, none refused and none
//! lost; and when the platform refuses anyway (a limit tighter than ours), its `retry_after` is
//! waited out and every reply still arrives.

use std::time::Instant;

use super::*;

/// Staff send `count` replies ("respuesta 1"…) to the Telegram chat `chat`, as fast as the API
/// takes them.
async fn staff_burst(hotel: &Hotel, chat: i64, count: usize) {
    let lucia = hotel
        .app
        .client_as("lucia", Role::Staff, Some("default"))
        .await;
    let url = hotel.app.url(&format!(
        "/api/v1/sessions/default%2Ftelegram%2F{chat}/replies"
    ));
    for n in 1..=count {
        let response = lucia
            .post(&url)
            .json(&json!({ "text": format!("respuesta {n}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED, "reply {n}");
    }
}

/// The staff replies the simulator accepted for `chat`, in order.
fn staff_replies(hotel: &Hotel, chat: i64) -> Vec<String> {
    hotel
        .telegram
        .sent_to(&chat.to_string())
        .into_iter()
        .filter(|t| t.starts_with("respuesta "))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_replies_to_one_telegram_chat_are_paced_and_all_delivered() {
    let interval = Duration::from_millis(25);
    let hotel = Hotel::open_tuned(StoreKind::Sqlite, Arc::new(FixedClock(midday())), "", |o| {
        o.channels.telegram_chat_interval_ms = interval.as_millis() as u64;
        o.access.api_rate_limit_per_minute = 10_000;
    })
    .await;
    let chat = 777701_i64;
    hotel.telegram_says(chat, 1, "hola").await;
    // Telegram's flood control, at the chat interval of this run and its real 30 a second.
    hotel.telegram.set_rate_limits(interval, 30);

    staff_burst(&hotel, chat, 200).await;
    eventually_within(
        "the 200 replies reach the chat",
        Duration::from_secs(90),
        || async { staff_replies(&hotel, chat).len() >= 200 },
    )
    .await;
    let expected: Vec<String> = (1..=200).map(|n| format!("respuesta {n}")).collect();
    assert_eq!(staff_replies(&hotel, chat), expected, "all, once, in order");
    assert_eq!(
        hotel.telegram.refused_429(),
        0,
        "paced on our side: Telegram never had to refuse one"
    );
    let times: Vec<Instant> = hotel.telegram.sent_times(chat);
    let gaps = times.windows(2).map(|w| w[1] - w[0]);
    let shortest = gaps.min().unwrap();
    assert!(
        shortest >= interval.mul_f32(0.8),
        "no two messages to the chat closer than its interval: {shortest:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_429_is_waited_out_for_its_retry_after_and_nothing_is_lost() {
    let hotel = Hotel::open_tuned(StoreKind::Sqlite, Arc::new(FixedClock(midday())), "", |o| {
        // Our pacing off: only Telegram's answer holds the replies back.
        o.channels.telegram_chat_interval_ms = 0;
        o.channels.telegram_bot_per_second = 0;
    })
    .await;
    let chat = 777702_i64;
    hotel.telegram_says(chat, 1, "hola").await;
    hotel.telegram.set_rate_limits(Duration::from_secs(1), 30);

    staff_burst(&hotel, chat, 3).await;
    eventually_within(
        "the three replies reach the chat",
        Duration::from_secs(30),
        || async { staff_replies(&hotel, chat).len() >= 3 },
    )
    .await;
    assert_eq!(
        staff_replies(&hotel, chat),
        ["respuesta 1", "respuesta 2", "respuesta 3"]
    );
    assert!(hotel.telegram.refused_429() >= 1, "Telegram did refuse");
    let transcript = hotel.transcript("telegram", &chat.to_string()).await;
    let staff: Vec<&Value> = transcript["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["role"] == "staff")
        .collect();
    eventually("the deliveries are recorded", || async {
        let transcript = hotel.transcript("telegram", &chat.to_string()).await;
        transcript["turns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["role"] == "staff" && t["delivery"] == "sent")
            .count()
            == 3
    })
    .await;
    assert_eq!(staff.len(), 3);
}
