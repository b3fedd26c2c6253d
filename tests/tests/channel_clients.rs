//! Contract tests of the channel and transcription adapters against the local simulators of
//! WhatsApp Cloud API, Telegram Bot API and an OpenAI-compatible transcriber: the real HTTP
//! clients, the providers' real request and response shapes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use conserje_domain::channel::{
    AudioClip, ChannelSender, Delivery, MediaError, MediaSource, OutboundReply, SendError,
    Transcriber,
};
use conserje_domain::understanding::Language;
use conserje_domain::values::{Channel, GuestRef, TenantId};
use conserje_infra::channel_accounts::ChannelAccounts;
use conserje_infra::channel_router::ChannelRouter;
use conserje_infra::config::ConfigFile;
use conserje_infra::telegram::TelegramBotApi;
use conserje_infra::transcriber::OpenAiTranscriber;
use conserje_infra::whatsapp::WhatsAppCloud;
use conserje_tests::simulators::{TelegramSimulator, TranscriberSimulator, WhatsAppSimulator};
use serde_json::json;

const ACCESS_TOKEN: &str = "EAAGsimulated-access-token";
const PHONE_NUMBER_ID: &str = "106540352242922";
const BOT_TOKEN: &str = "123456789:AAHsimulated-bot-token";
const GUEST_WA_ID: &str = "34600111222";
const GUEST_CHAT_ID: &str = "987654321";
const VOICE_NOTE: &[u8] = b"OggS\x00\x02fake-opus-voice-note";

/// The accounts of a `default` hotel with a WhatsApp number and a Telegram bot, and of a
/// `hotel-luna` whose WhatsApp number has the wrong token, parsed like the configuration file.
fn accounts() -> Arc<ChannelAccounts> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("conserje.toml");
    let file = format!(
        r#"
        [hotels.default]
        time_zone = "Europe/Madrid"
        [hotels.default.whatsapp]
        phone_number_id = "{PHONE_NUMBER_ID}"
        access_token = "{ACCESS_TOKEN}"
        [hotels.default.telegram]
        bot_token = "{BOT_TOKEN}"

        [hotels.hotel-luna]
        time_zone = "Europe/Lisbon"
        [hotels.hotel-luna.whatsapp]
        phone_number_id = "200000000000001"
        access_token = "EAAGrevoked-token"
        [hotels.hotel-luna.telegram]
        bot_token = "555:unknown-bot"

        [pms_simulator]
        currency = "EUR"
        rooms = []
        "#
    );
    std::fs::write(&path, file).expect("the configuration is written");
    let config = ConfigFile::load(Some(&path)).expect("the configuration parses");
    Arc::new(ChannelAccounts::new(&config.hotels))
}

fn reply(tenant: &str, channel: &str, guest: &str, text: &str) -> OutboundReply {
    OutboundReply {
        reply_id: uuid::Uuid::now_v7(),
        tenant_id: TenantId::parse(tenant).expect("a valid tenant"),
        channel: Channel::parse(channel).expect("a channel"),
        guest_ref: GuestRef::parse(guest).expect("a valid guest"),
        text: text.to_owned(),
        language: Language::Es,
        message_template: None,
        choices: None,
        proactive: None,
    }
}

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).expect("a valid tenant")
}

fn clip(bytes: &[u8], mime_type: &str) -> AudioClip {
    AudioClip {
        bytes: bytes.to_vec(),
        mime_type: mime_type.to_owned(),
        duration_seconds: None,
    }
}

// ---------------------------------------------------------------- WhatsApp

#[tokio::test]
async fn whatsapp_sends_the_cloud_api_text_message_and_returns_the_wamid() {
    let simulator = WhatsAppSimulator::start(ACCESS_TOKEN).await;
    let whatsapp = WhatsAppCloud::new(simulator.base_url(), "v21.0", accounts());

    let delivery = whatsapp
        .send(&reply(
            "default",
            "whatsapp",
            GUEST_WA_ID,
            "¡Hola! ¿En qué puedo ayudarte?",
        ))
        .await
        .expect("the message is accepted");

    let sent = simulator.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].phone_number_id.as_deref(), Some(PHONE_NUMBER_ID));
    assert_eq!(
        sent[0].body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": GUEST_WA_ID,
            "type": "text",
            "text": { "preview_url": false, "body": "¡Hola! ¿En qué puedo ayudarte?" },
        })
    );
    let Delivery::Sent {
        provider_message_id: Some(id),
    } = delivery
    else {
        panic!("expected a sent message with an id, got {delivery:?}");
    };
    assert!(id.starts_with("wamid."), "{id}");
    assert_eq!(
        simulator.sent_to(GUEST_WA_ID),
        vec!["¡Hola! ¿En qué puedo ayudarte?".to_owned()]
    );
}

#[tokio::test]
async fn whatsapp_with_a_wrong_token_is_a_permanent_failure_naming_the_graph_error() {
    let simulator = WhatsAppSimulator::start(ACCESS_TOKEN).await;
    let whatsapp = WhatsAppCloud::new(simulator.base_url(), "v21.0", accounts());

    let outcome = whatsapp
        .send(&reply("hotel-luna", "whatsapp", GUEST_WA_ID, "Hola"))
        .await;

    let Err(SendError::Permanent(message)) = outcome else {
        panic!("expected a permanent failure, got {outcome:?}");
    };
    assert!(message.contains("401"), "{message}");
    assert!(message.contains("code 190"), "{message}");
    assert!(simulator.sent().is_empty());
}

#[tokio::test]
async fn whatsapp_server_errors_are_transient_and_the_retry_succeeds() {
    let simulator = WhatsAppSimulator::start(ACCESS_TOKEN).await;
    let whatsapp = WhatsAppCloud::new(simulator.base_url(), "v21.0", accounts());
    let message = reply(
        "default",
        "whatsapp",
        GUEST_WA_ID,
        "Su reserva está confirmada",
    );
    simulator.fail_next(1, 500);

    let first = whatsapp.send(&message).await;
    assert!(matches!(first, Err(SendError::Transient(_))), "{first:?}");
    assert!(simulator.sent().is_empty());

    let second = whatsapp.send(&message).await;
    assert!(
        matches!(
            second,
            Ok(Delivery::Sent {
                provider_message_id: Some(_)
            })
        ),
        "{second:?}"
    );
    assert_eq!(simulator.sent_to(GUEST_WA_ID).len(), 1);
    assert_eq!(simulator.calls(), 2);
}

#[tokio::test]
async fn whatsapp_client_errors_are_permanent_and_rate_limits_waited_out() {
    let simulator = WhatsAppSimulator::start(ACCESS_TOKEN).await;
    let whatsapp = WhatsAppCloud::new(simulator.base_url(), "v21.0", accounts());
    let message = reply("default", "whatsapp", GUEST_WA_ID, "Hola");

    simulator.fail_next(1, 400);
    let refused = whatsapp.send(&message).await;
    assert!(
        matches!(refused, Err(SendError::Permanent(ref m)) if m.contains("code 100")),
        "{refused:?}"
    );

    simulator.fail_next(1, 429);
    let limited = whatsapp.send(&message).await;
    assert!(
        matches!(limited, Err(SendError::RateLimited { ref reason, retry_after: None }) if reason.contains("130429")),
        "{limited:?}"
    );
}

#[tokio::test]
async fn whatsapp_that_does_not_answer_in_time_is_transient() {
    let simulator = WhatsAppSimulator::start(ACCESS_TOKEN).await;
    simulator.set_delay(Duration::from_secs(2));
    let whatsapp = WhatsAppCloud::new(simulator.base_url(), "v21.0", accounts())
        .with_timeout(Duration::from_millis(200));

    let started = Instant::now();
    let outcome = whatsapp
        .send(&reply("default", "whatsapp", GUEST_WA_ID, "Hola"))
        .await;

    assert!(
        matches!(outcome, Err(SendError::Transient(_))),
        "{outcome:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn whatsapp_that_is_down_is_transient() {
    // A bound socket that never listens: the port stays ours and every connection is refused.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("a free port");
    let base = format!("http://{}", socket.local_addr().expect("a bound address"));
    let whatsapp = WhatsAppCloud::new(base, "v21.0", accounts());

    let outcome = whatsapp
        .send(&reply("default", "whatsapp", GUEST_WA_ID, "Hola"))
        .await;

    assert!(
        matches!(outcome, Err(SendError::Transient(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn whatsapp_voice_notes_are_fetched_through_the_media_url() {
    let simulator = WhatsAppSimulator::start(ACCESS_TOKEN).await;
    simulator.add_media(
        "1013859600285441",
        VOICE_NOTE.to_vec(),
        "audio/ogg; codecs=opus",
    );
    let whatsapp = WhatsAppCloud::new(simulator.base_url(), "v21.0", accounts());

    let clip = whatsapp
        .fetch_audio(&tenant("default"), Channel::WhatsApp, "1013859600285441")
        .await
        .expect("the voice note downloads");

    assert_eq!(clip.bytes, VOICE_NOTE);
    assert_eq!(clip.mime_type, "audio/ogg; codecs=opus");
    assert_eq!(clip.duration_seconds, None);
    // Metadata, then the download: both with the Bearer token.
    assert_eq!(simulator.calls(), 2);

    let unknown = whatsapp
        .fetch_audio(&tenant("default"), Channel::WhatsApp, "999")
        .await;
    assert!(
        matches!(unknown, Err(MediaError::NotFound(_))),
        "{unknown:?}"
    );
    let wrong_token = whatsapp
        .fetch_audio(&tenant("hotel-luna"), Channel::WhatsApp, "1013859600285441")
        .await;
    assert!(
        matches!(wrong_token, Err(MediaError::Failed(ref m)) if m.contains("190")),
        "{wrong_token:?}"
    );
}

// ---------------------------------------------------------------- Telegram

#[tokio::test]
async fn telegram_sends_to_the_numeric_chat_id_and_returns_the_message_id() {
    let simulator = TelegramSimulator::start(BOT_TOKEN).await;
    let telegram = TelegramBotApi::new(simulator.base_url(), accounts());

    let delivery = telegram
        .send(&reply(
            "default",
            "telegram",
            GUEST_CHAT_ID,
            "Hello! How can I help?",
        ))
        .await
        .expect("the message is accepted");

    assert_eq!(
        delivery,
        Delivery::Sent {
            provider_message_id: Some("1".to_owned())
        }
    );
    let sent = simulator.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body,
        json!({ "chat_id": 987654321_i64, "text": "Hello! How can I help?" })
    );
    assert_eq!(
        simulator.sent_to(GUEST_CHAT_ID),
        vec!["Hello! How can I help?".to_owned()]
    );
}

#[tokio::test]
async fn telegram_rate_limits_carry_their_retry_after_and_an_unknown_chat_is_unreachable() {
    let simulator = TelegramSimulator::start(BOT_TOKEN).await;
    let telegram = TelegramBotApi::new(simulator.base_url(), accounts());
    let message = reply("default", "telegram", GUEST_CHAT_ID, "Hola");

    simulator.fail_next(1, 429);
    let limited = telegram.send(&message).await;
    assert!(
        matches!(
            limited,
            Err(SendError::RateLimited { ref reason, retry_after: Some(after) })
                if reason.contains("retry after 5") && after == std::time::Duration::from_secs(5)
        ),
        "{limited:?}"
    );

    simulator.fail_next(1, 400);
    let refused = telegram.send(&message).await;
    assert!(
        matches!(refused, Err(SendError::Unreachable(ref m)) if m.contains("chat not found")),
        "{refused:?}"
    );

    simulator.fail_next(1, 502);
    let outage = telegram.send(&message).await;
    assert!(matches!(outage, Err(SendError::Transient(_))), "{outage:?}");

    assert!(simulator.sent().is_empty());
    assert!(telegram.send(&message).await.is_ok());
    assert_eq!(simulator.sent_to(GUEST_CHAT_ID).len(), 1);
}

/// A bot cannot write first, and a guest may block it: both are the guest being unreachable on
/// Telegram (nothing to retry, nothing staff could send there either), while a malformed message
/// stays a plain refusal.
#[tokio::test]
async fn telegram_guests_who_never_started_the_chat_or_blocked_the_bot_are_unreachable() {
    let simulator = TelegramSimulator::start(BOT_TOKEN).await;
    let telegram = TelegramBotApi::new(simulator.base_url(), accounts());
    simulator.require_start(true);
    let never_started = telegram
        .send(&reply(
            "default",
            "telegram",
            GUEST_CHAT_ID,
            "Su reserva está confirmada",
        ))
        .await;
    assert!(
        matches!(never_started, Err(SendError::Unreachable(ref m)) if m.contains("can't initiate")),
        "{never_started:?}"
    );
    simulator.require_start(false);
    simulator.block(GUEST_CHAT_ID.parse().unwrap());
    let blocked = telegram
        .send(&reply("default", "telegram", GUEST_CHAT_ID, "Hola"))
        .await;
    assert!(
        matches!(blocked, Err(SendError::Unreachable(ref m)) if m.contains("blocked")),
        "{blocked:?}"
    );
    let empty = telegram
        .send(&reply("default", "telegram", "777000999", " "))
        .await;
    assert!(matches!(empty, Err(SendError::Permanent(_))), "{empty:?}");
    assert!(simulator.sent().is_empty());
}

#[tokio::test]
async fn telegram_with_an_unknown_bot_token_is_permanent_and_does_not_leak_the_token() {
    let simulator = TelegramSimulator::start(BOT_TOKEN).await;
    let telegram = TelegramBotApi::new(simulator.base_url(), accounts());

    let outcome = telegram
        .send(&reply("hotel-luna", "telegram", GUEST_CHAT_ID, "Hola"))
        .await;

    let Err(SendError::Permanent(message)) = outcome else {
        panic!("expected a permanent failure, got {outcome:?}");
    };
    assert!(message.contains("Unauthorized"), "{message}");
    assert!(!message.contains("unknown-bot"), "{message}");
}

#[tokio::test]
async fn telegram_voice_notes_are_fetched_with_get_file() {
    let simulator = TelegramSimulator::start(BOT_TOKEN).await;
    simulator.add_file(
        "AwACAgQAAxkBAAIBY2Zvoice",
        VOICE_NOTE.to_vec(),
        "voice/file_0.oga",
    );
    let telegram = TelegramBotApi::new(simulator.base_url(), accounts());

    let clip = telegram
        .fetch_audio(
            &tenant("default"),
            Channel::Telegram,
            "AwACAgQAAxkBAAIBY2Zvoice",
        )
        .await
        .expect("the voice note downloads");

    assert_eq!(clip.bytes, VOICE_NOTE);
    assert_eq!(clip.mime_type, "audio/ogg");
    assert_eq!(simulator.calls(), 2);

    let unknown = telegram
        .fetch_audio(&tenant("default"), Channel::Telegram, "no-such-file")
        .await;
    assert!(
        matches!(unknown, Err(MediaError::NotFound(ref m)) if m.contains("invalid file_id")),
        "{unknown:?}"
    );
}

// ---------------------------------------------------------------- transcriber

#[tokio::test]
async fn the_transcriber_returns_the_text_of_a_known_voice_note() {
    let simulator = TranscriberSimulator::start(Some("sk-simulated")).await;
    simulator.add_transcript(VOICE_NOTE.to_vec(), "Quiero reservar una habitación doble");
    let transcriber = OpenAiTranscriber::new(
        simulator.base_url(),
        Some("sk-simulated".to_owned()),
        "whisper-1",
    );

    let text = transcriber
        .transcribe(
            &clip(VOICE_NOTE, "audio/ogg"),
            Some(Language::Es),
            Duration::from_secs(10),
        )
        .await
        .expect("the voice note is transcribed");

    assert_eq!(text, "Quiero reservar una habitación doble");
    let requests = simulator.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].model, "whisper-1");
    assert_eq!(requests[0].language.as_deref(), Some("es"));
    assert_eq!(requests[0].response_format.as_deref(), Some("json"));
    assert_eq!(requests[0].file_name, "voice.ogg");
    assert_eq!(requests[0].content_type.as_deref(), Some("audio/ogg"));
    assert_eq!(requests[0].bytes, VOICE_NOTE);
}

#[tokio::test]
async fn the_transcriber_leaves_out_the_language_when_unknown_and_names_mp3_uploads() {
    let simulator = TranscriberSimulator::start(None).await;
    simulator.add_transcript(b"ID3mp3".to_vec(), "I'd like a room");
    let transcriber = OpenAiTranscriber::new(simulator.base_url(), None, "whisper-1");

    let text = transcriber
        .transcribe(
            &clip(b"ID3mp3", "audio/mpeg"),
            None,
            Duration::from_secs(10),
        )
        .await
        .expect("the voice note is transcribed");

    assert_eq!(text, "I'd like a room");
    let requests = simulator.requests();
    assert_eq!(requests[0].language, None);
    assert_eq!(requests[0].file_name, "audio.mp3");
}

#[tokio::test]
async fn a_slow_transcriber_times_out_at_the_given_timeout() {
    let simulator = TranscriberSimulator::start(None).await;
    simulator.add_transcript(VOICE_NOTE.to_vec(), "tarde");
    simulator.set_delay(Duration::from_secs(2));
    let transcriber = OpenAiTranscriber::new(simulator.base_url(), None, "whisper-1");

    let started = Instant::now();
    let outcome = transcriber
        .transcribe(
            &clip(VOICE_NOTE, "audio/ogg"),
            None,
            Duration::from_millis(200),
        )
        .await;

    assert_eq!(
        outcome,
        Err(MediaError::TimedOut(Duration::from_millis(200)))
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn transcriber_failures_carry_the_status_and_the_services_message() {
    let simulator = TranscriberSimulator::start(Some("sk-simulated")).await;
    simulator.add_transcript(VOICE_NOTE.to_vec(), "hola");
    let transcriber = OpenAiTranscriber::new(
        simulator.base_url(),
        Some("sk-simulated".to_owned()),
        "whisper-1",
    );
    let voice = clip(VOICE_NOTE, "audio/ogg");

    simulator.fail_next(1, 500);
    let outage = transcriber
        .transcribe(&voice, None, Duration::from_secs(10))
        .await;
    assert!(
        matches!(outage, Err(MediaError::Failed(ref m)) if m.contains("500") && m.contains("server had an error")),
        "{outage:?}"
    );

    let unknown = transcriber
        .transcribe(&clip(b"noise", "audio/ogg"), None, Duration::from_secs(10))
        .await;
    assert!(
        matches!(unknown, Err(MediaError::Failed(ref m)) if m.contains("400") && m.contains("corrupted")),
        "{unknown:?}"
    );

    let wrong_key =
        OpenAiTranscriber::new(simulator.base_url(), Some("sk-wrong".into()), "whisper-1")
            .transcribe(&voice, None, Duration::from_secs(10))
            .await;
    assert!(
        matches!(wrong_key, Err(MediaError::Failed(ref m)) if m.contains("401")),
        "{wrong_key:?}"
    );

    assert_eq!(
        transcriber
            .transcribe(&voice, None, Duration::from_secs(10))
            .await,
        Ok("hola".to_owned())
    );
    assert_eq!(simulator.calls(), 4);
}

// ---------------------------------------------------------------- router

#[tokio::test]
async fn the_router_keeps_replies_of_unconfigured_channels_in_the_outbox() {
    let simulator = TelegramSimulator::start(BOT_TOKEN).await;
    let router = ChannelRouter::from_options(
        None,
        "v21.0".to_owned(),
        Some(simulator.base_url()),
        accounts(),
    );

    let whatsapp = router
        .send(&reply("default", "whatsapp", GUEST_WA_ID, "Hola"))
        .await;
    assert_eq!(whatsapp, Ok(Delivery::KeptInOutbox));
    let api = router
        .send(&reply("default", "api", "ana@example.com", "Hola"))
        .await;
    assert_eq!(
        api,
        Ok(Delivery::KeptInOutbox),
        "the api channel has no sender"
    );
    let media = router
        .fetch_audio(&tenant("default"), Channel::WhatsApp, "1013859600285441")
        .await;
    assert_eq!(
        media,
        Err(MediaError::Failed("no whatsapp API configured".to_owned()))
    );

    let telegram = router
        .send(&reply("default", "telegram", GUEST_CHAT_ID, "Hola"))
        .await;
    assert!(
        matches!(
            telegram,
            Ok(Delivery::Sent {
                provider_message_id: Some(_)
            })
        ),
        "{telegram:?}"
    );
    assert_eq!(simulator.sent_to(GUEST_CHAT_ID), vec!["Hola".to_owned()]);
}

#[tokio::test]
async fn the_router_sends_each_channel_through_its_own_provider() {
    let whatsapp = WhatsAppSimulator::start(ACCESS_TOKEN).await;
    let telegram = TelegramSimulator::start(BOT_TOKEN).await;
    telegram.add_file("voice-1", VOICE_NOTE.to_vec(), "voice/file_1.oga");
    let router = ChannelRouter::from_options(
        Some(format!("{}/", whatsapp.base_url())),
        "v21.0".to_owned(),
        Some(telegram.base_url()),
        accounts(),
    );

    router
        .send(&reply("default", "whatsapp", GUEST_WA_ID, "por WhatsApp"))
        .await
        .expect("sent on WhatsApp");
    router
        .send(&reply("default", "telegram", GUEST_CHAT_ID, "por Telegram"))
        .await
        .expect("sent on Telegram");
    let clip = router
        .fetch_audio(&tenant("default"), Channel::Telegram, "voice-1")
        .await
        .expect("fetched from Telegram");

    assert_eq!(
        whatsapp.sent_to(GUEST_WA_ID),
        vec!["por WhatsApp".to_owned()]
    );
    assert_eq!(
        telegram.sent_to(GUEST_CHAT_ID),
        vec!["por Telegram".to_owned()]
    );
    assert_eq!(clip.bytes, VOICE_NOTE);
}

#[tokio::test]
async fn a_tenant_without_an_account_is_a_permanent_failure() {
    let simulator = WhatsAppSimulator::start(ACCESS_TOKEN).await;
    let whatsapp = WhatsAppCloud::new(
        simulator.base_url(),
        "v21.0",
        Arc::new(ChannelAccounts::new(&Default::default())),
    );

    let outcome = whatsapp
        .send(&reply("default", "whatsapp", GUEST_WA_ID, "Hola"))
        .await;

    assert_eq!(
        outcome,
        Err(SendError::Permanent(
            "whatsapp not configured for tenant default".to_owned()
        ))
    );
    assert_eq!(simulator.calls(), 0);
}
