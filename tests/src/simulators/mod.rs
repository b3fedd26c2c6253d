//! Local stand-ins for the services conserje cannot run itself: the WhatsApp Cloud API, the
//! Telegram Bot API, an OpenAI-compatible transcriber and the QloApps PMS webservice.
//!
//! Each is a real HTTP server on 127.0.0.1 that speaks the provider's request and response shapes,
//! checks credentials the way the provider does, records what it accepted and can be told to fail
//! or to be slow. The adapters in `conserje-infra` are tested against them unchanged, and anyone
//! trying the product can point `CONSERJE_*_API_BASE` at one.

pub mod qloapps;
pub mod telegram;
pub mod transcriber;
pub mod whatsapp;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use qloapps::{QloAppsSimulator, SimBooking, SimHotel, SimLine, SimRoomType};
pub use telegram::TelegramSimulator;
pub use transcriber::{TranscriberSimulator, TranscriptionRequest};
pub use whatsapp::WhatsAppSimulator;

/// One message a channel simulator accepted, so tests can check what the guest would have seen.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    /// The WhatsApp `to` (`wa_id`) or the Telegram `chat_id`, as text.
    pub to: String,
    pub text: String,
    /// The business number the message went out from (WhatsApp only).
    pub phone_number_id: Option<String>,
    /// The request body exactly as received, for tests of the wire format.
    pub body: serde_json::Value,
}

/// The texts of `sent` addressed to `to`, in order: what that guest would have read.
pub(crate) fn texts_to(sent: &Mutex<Vec<SentMessage>>, to: &str) -> Vec<String> {
    lock(sent)
        .iter()
        .filter(|m| m.to == to)
        .map(|m| m.text.clone())
        .collect()
}

/// Failure injection, latency and a call counter, the same for every simulator.
#[derive(Debug, Default)]
pub(crate) struct Controls {
    /// How many of the next requests fail, and with which status.
    failures: Mutex<(u32, u16)>,
    delay: Mutex<Duration>,
    calls: AtomicUsize,
}

impl Controls {
    pub(crate) fn fail_next(&self, count: u32, status: u16) {
        assert!(
            StatusCode::from_u16(status).is_ok(),
            "{status} is not an HTTP status"
        );
        *lock(&self.failures) = (count, status);
    }

    pub(crate) fn set_delay(&self, delay: Duration) {
        *lock(&self.delay) = delay;
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Runs at the start of every request: counts it, waits the configured delay and says which
    /// status to fail it with, if it is one of the next `n` to fail.
    pub(crate) async fn on_request(&self) -> Option<StatusCode> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let delay = *lock(&self.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut failures = lock(&self.failures);
        if failures.0 == 0 {
            return None;
        }
        failures.0 -= 1;
        StatusCode::from_u16(failures.1).ok()
    }
}

/// Locks a simulator's state; a test that panicked while holding it already failed.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A simulator's listening socket and server task; the server stops when this is dropped.
#[derive(Debug)]
pub(crate) struct Server {
    address: SocketAddr,
    task: Option<JoinHandle<()>>,
    listener: Option<TcpListener>,
}

impl Server {
    /// Binds a free port on 127.0.0.1, so the base URL is known before the routes are built.
    pub(crate) async fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free local port");
        let address = listener.local_addr().expect("a bound address");
        Self {
            address,
            task: None,
            listener: Some(listener),
        }
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Starts answering with `router`.
    pub(crate) fn serve(&mut self, router: Router) {
        let listener = self.listener.take().expect("served once");
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
