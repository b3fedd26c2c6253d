//! Outbound pacing: the platforms' rate limits, kept on our side so that a burst of replies
//! (a busy evening, staff answering a backlog, a long answer split in parts) goes out at the pace
//! the platform takes instead of being refused and retried.
//!
//! Telegram takes about one message a second in one chat and thirty a second from one bot;
//! WhatsApp about eighty a second from one business number (its 130429 past that). Each send
//! reserves the next free slot of its chat and of its account, then waits for it: the slots are
//! handed out under one lock, so conversations sent concurrently share an account's rate instead
//! of each taking all of it, and a conversation's replies — sent one after the other by the
//! dispatcher — keep their order. What the platform still refuses (another process on the same
//! account, a limit lower than ours) comes back as `SendError::RateLimited` and is waited out
//! by the dispatcher, never dropped.
//!
//! The pacing is per process: the consumer group gives each conversation to one process, so a
//! chat's pace is exact; an account served by several processes can go up to that many times its
//! rate, and the platform's 429s are what keep it right then.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use conserje_domain::channel::OutboundReply;
use conserje_domain::values::Channel;
use tokio::time::Instant;

/// Telegram: at most one message a second to one chat.
pub const DEFAULT_TELEGRAM_CHAT_INTERVAL: Duration = Duration::from_secs(1);
/// Telegram: at most thirty messages a second from one bot.
pub const DEFAULT_TELEGRAM_BOT_PER_SECOND: u32 = 30;
/// WhatsApp: at most eighty messages a second from one business number.
pub const DEFAULT_WHATSAPP_NUMBER_PER_SECOND: u32 = 80;

/// How many chats' next slots are kept before the ones already past are forgotten.
const REMEMBERED_CHATS: usize = 10_000;

/// The limits, each a setting (`0` or a zero interval turns one off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacingSettings {
    pub telegram_chat_interval: Duration,
    pub telegram_bot_per_second: u32,
    pub whatsapp_number_per_second: u32,
}

impl Default for PacingSettings {
    fn default() -> Self {
        Self {
            telegram_chat_interval: DEFAULT_TELEGRAM_CHAT_INTERVAL,
            telegram_bot_per_second: DEFAULT_TELEGRAM_BOT_PER_SECOND,
            whatsapp_number_per_second: DEFAULT_WHATSAPP_NUMBER_PER_SECOND,
        }
    }
}

impl PacingSettings {
    /// No pacing at all (tests of other things, and the embedded outbox).
    pub fn off() -> Self {
        Self {
            telegram_chat_interval: Duration::ZERO,
            telegram_bot_per_second: 0,
            whatsapp_number_per_second: 0,
        }
    }

    /// The spacing between two sends of one chat and of one account on `channel`.
    fn spacing(&self, channel: Channel) -> (Duration, Duration) {
        let per_second = |rate: u32| {
            if rate == 0 {
                Duration::ZERO
            } else {
                Duration::from_secs(1) / rate
            }
        };
        match channel {
            Channel::Telegram => (
                self.telegram_chat_interval,
                per_second(self.telegram_bot_per_second),
            ),
            Channel::WhatsApp => (Duration::ZERO, per_second(self.whatsapp_number_per_second)),
            Channel::Api => (Duration::ZERO, Duration::ZERO),
        }
    }
}

/// The next free slot of each chat and each account.
#[derive(Debug, Default)]
struct Slots {
    chats: HashMap<String, Instant>,
    accounts: HashMap<String, Instant>,
}

/// The keys of `reply`'s account (`channel/tenant`) and chat (`channel/tenant/guest`).
fn keys(reply: &OutboundReply) -> (String, String) {
    let account = format!("{}/{}", reply.channel, reply.tenant_id);
    let chat = format!("{account}/{}", reply.guest_ref);
    (account, chat)
}

/// Hands out send slots; see the module documentation.
#[derive(Debug)]
pub struct Pacer {
    settings: PacingSettings,
    slots: Mutex<Slots>,
}

impl Pacer {
    pub fn new(settings: PacingSettings) -> Self {
        Self {
            settings,
            slots: Mutex::new(Slots::default()),
        }
    }

    /// Reserves the next slot `reply` may go in and returns when it is.
    fn reserve(&self, reply: &OutboundReply, now: Instant) -> Instant {
        let (chat_spacing, account_spacing) = self.settings.spacing(reply.channel);
        if chat_spacing.is_zero() && account_spacing.is_zero() {
            return now;
        }
        let (account, chat) = keys(reply);
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.chats.len() > REMEMBERED_CHATS {
            slots.chats.retain(|_, next| *next > now);
        }
        let free = |map: &HashMap<String, Instant>, key: &str| {
            map.get(key).copied().filter(|t| *t > now).unwrap_or(now)
        };
        let at = free(&slots.chats, &chat).max(free(&slots.accounts, &account));
        if !chat_spacing.is_zero() {
            slots.chats.insert(chat, at + chat_spacing);
        }
        if !account_spacing.is_zero() {
            slots.accounts.insert(account, at + account_spacing);
        }
        at
    }

    /// Waits until `reply` may go without breaking its platform's limits.
    pub async fn wait_turn(&self, reply: &OutboundReply) {
        let at = self.reserve(reply, Instant::now());
        tokio::time::sleep_until(at).await;
    }

    /// Counts the spacing again from when the platform answered `reply`: a request that took
    /// longer than the one after it would otherwise land closer to it than the platform allows.
    pub fn sent(&self, reply: &OutboundReply) {
        let (chat_spacing, account_spacing) = self.settings.spacing(reply.channel);
        if chat_spacing.is_zero() && account_spacing.is_zero() {
            return;
        }
        let now = Instant::now();
        let (account, chat) = keys(reply);
        let mut guard = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let slots = &mut *guard;
        for (map, key, spacing) in [
            (&mut slots.chats, chat, chat_spacing),
            (&mut slots.accounts, account, account_spacing),
        ] {
            if spacing.is_zero() {
                continue;
            }
            let next = map.entry(key).or_insert(now);
            *next = (*next).max(now + spacing);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Channel;
    use super::*;
    use conserje_domain::understanding::Language;
    use conserje_domain::values::{GuestRef, TenantId};

    fn reply(channel: Channel, guest: &str) -> OutboundReply {
        OutboundReply {
            reply_id: uuid::Uuid::from_u128(1),
            tenant_id: TenantId::parse("hotel-sol").unwrap(),
            channel,
            guest_ref: GuestRef::parse(guest).unwrap(),
            text: "hola".into(),
            language: Language::Es,
            message_template: None,
            choices: None,
            proactive: None,
        }
    }

    #[test]
    fn one_telegram_chat_gets_one_slot_a_second_and_the_bot_thirty() {
        let pacer = Pacer::new(PacingSettings::default());
        let now = Instant::now();
        let chat: Vec<Duration> = (0..3)
            .map(|_| pacer.reserve(&reply(Channel::Telegram, "777"), now) - now)
            .collect();
        assert_eq!(
            chat,
            [
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]
        );
        // Other chats of the bot are spaced by the bot's rate, not the chat's.
        let pacer = Pacer::new(PacingSettings::default());
        let others: Vec<Duration> = (0..31)
            .map(|n| pacer.reserve(&reply(Channel::Telegram, &format!("{}", 1000 + n)), now) - now)
            .collect();
        assert_eq!(others[1], Duration::from_secs(1) / 30);
        assert!(others[30] >= Duration::from_millis(999), "{:?}", others[30]);
    }

    #[test]
    fn whatsapp_paces_the_number_not_the_guest_and_off_is_off() {
        let pacer = Pacer::new(PacingSettings::default());
        let now = Instant::now();
        let slots: Vec<Duration> = (0..81)
            .map(|_| pacer.reserve(&reply(Channel::WhatsApp, "34600111222"), now) - now)
            .collect();
        assert_eq!(slots[1], Duration::from_micros(12_500));
        assert_eq!(slots[80], Duration::from_secs(1));
        let off = Pacer::new(PacingSettings::off());
        assert_eq!(off.reserve(&reply(Channel::Telegram, "777"), now), now);
        assert_eq!(off.reserve(&reply(Channel::Telegram, "777"), now), now);
    }
}
