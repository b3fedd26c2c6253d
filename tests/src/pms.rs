//! conserje with the `default` hotel booking in a QloApps shop (the local simulator), as a
//! hotel configures it: `[hotels.default.pms] kind = "qloapps"`. The end-to-end PMS suites
//! start their service here.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use conserje_gateway::settings::StoreOptions;
use tempfile::TempDir;

use crate::channels::channel_config;
use crate::simulators::qloapps::{QloAppsSimulator, SimHotel};
use crate::simulators::WhatsAppSimulator;
use crate::{fresh_store, MovingClock, StoreKind, TestApp};

/// The shop's webservice key: 32 characters, as QloApps generates them.
pub const QLOAPPS_KEY: &str = "K3YQL0APPS5IMULAT0R0123456789ABC";
/// The WhatsApp send token the test configuration gives the `default` hotel.
pub const WHATSAPP_TOKEN: &str = "EAAG-pms-test-access-token";

/// The channel configuration of the suites, with the `default` hotel's PMS at `base_url` and a
/// WhatsApp send token, written in `dir`.
pub fn qloapps_config(dir: &Path, base_url: &str) -> PathBuf {
    let path = channel_config(dir);
    let text = std::fs::read_to_string(&path).expect("the channel config");
    let text = text.replacen(
        "verify_token = \"default-verify-token\"",
        &format!("verify_token = \"default-verify-token\"\naccess_token = \"{WHATSAPP_TOKEN}\""),
        1,
    );
    let pms = format!(
        r#"
[hotels.default.pms]
kind = "qloapps"
base_url = "{base_url}"
api_key = "{QLOAPPS_KEY}"
id_hotel = 1
room_types = {{ standard = 11, double = 12, king = 13, suite = 14 }}
"#
    );
    std::fs::write(&path, format!("{text}\n{pms}")).expect("write the PMS config");
    path
}

/// A running conserje whose `default` hotel books in a QloApps simulator, and whose WhatsApp
/// replies go to a WhatsApp simulator.
pub struct QloAppsHotel {
    pub app: TestApp,
    pub pms: QloAppsSimulator,
    pub whatsapp: WhatsAppSimulator,
    pub options: StoreOptions,
    /// The service's clock: it runs from the test's `now`, and can be moved ahead.
    pub clock: Arc<MovingClock>,
    pub dir: TempDir,
}

impl QloAppsHotel {
    /// Starts the simulators and the service with its clock running from `now`; `tune` adjusts
    /// the options (breaker, cache and retry settings of a fault suite) before the service starts.
    pub async fn open(
        kind: StoreKind,
        now: DateTime<Utc>,
        tune: impl FnOnce(&mut StoreOptions),
    ) -> Self {
        let pms = QloAppsSimulator::start(QLOAPPS_KEY, SimHotel::sample()).await;
        Self::open_with(pms, kind, now, tune).await
    }

    /// [`QloAppsHotel::open`] with a simulator the test prepared (already failing, say, so
    /// that the start-up warm-up finds nothing).
    pub async fn open_with(
        pms: QloAppsSimulator,
        kind: StoreKind,
        now: DateTime<Utc>,
        tune: impl FnOnce(&mut StoreOptions),
    ) -> Self {
        let whatsapp = WhatsAppSimulator::start(WHATSAPP_TOKEN).await;
        let (mut options, dir) = fresh_store(kind).await;
        options.config = Some(qloapps_config(dir.path(), &pms.base_url()));
        options.channels.whatsapp_api_base = Some(whatsapp.base_url());
        options.pms.pms_retry_poll_ms = 100;
        tune(&mut options);
        let clock = Arc::new(MovingClock::at(now));
        let app = TestApp::spawn_with_clock(&options, clock.clone()).await;
        Self {
            app,
            pms,
            whatsapp,
            options,
            clock,
            dir,
        }
    }

    /// Waits until the availability cache holds the next nights (the start-up warm-up).
    pub async fn cache_warmed(&self) {
        crate::eventually_within("the PMS cache is warmed", Duration::from_secs(20), || {
            let warmed = self
                .app
                .runtime
                .pms
                .guarded()
                .all(|(_, pms)| pms.cached_nights() > 0);
            async move { warmed }
        })
        .await;
    }
}

impl QloAppsHotel {
    /// A WhatsApp guest `wa_id` writes `text` (message `n` of theirs); returns the replies of the
    /// turn, waiting up to `patience` for the first (a slow PMS makes slow turns).
    pub async fn says(&self, wa_id: &str, n: usize, text: &str, patience: Duration) -> String {
        let before = self.whatsapp.sent_to(wa_id).len();
        let mut payload = crate::channels::whatsapp_text(
            crate::channels::DEFAULT_PHONE_NUMBER_ID,
            wa_id,
            "Ana Pérez",
            &format!("wamid.{wa_id}.{n}"),
            text,
        );
        // Sent "now" by the service's clock, so ages the bot states are the clock's.
        use conserje_domain::ports::Clock;
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] =
            serde_json::json!(self.clock.now().timestamp().to_string());
        let status = crate::channels::post_whatsapp(&self.app, &payload)
            .await
            .status();
        assert_eq!(status, 200, "the webhook takes the message");
        crate::eventually_within("the bot answers", patience, || {
            let count = self.whatsapp.sent_to(wa_id).len();
            async move { count > before }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.whatsapp.sent_to(wa_id)[before..].join("\n")
    }

    /// Everything the guest has been sent so far.
    pub fn told(&self, wa_id: &str) -> String {
        self.whatsapp.sent_to(wa_id).join("\n")
    }

    /// The reservation the guest's conversation last booked.
    pub async fn last_booking(&self, wa_id: &str) -> conserje_domain::reservation::Reservation {
        let session = self
            .app
            .runtime
            .conversations
            .session(&format!("default/whatsapp/{wa_id}"))
            .await
            .expect("the session");
        let id = session.dialogue.last_booking.expect("the guest booked");
        self.app
            .runtime
            .desk
            .find(id)
            .await
            .expect("the reservation")
    }

    /// Waits for every projection to catch up, replays each replayable read model from the
    /// event store and checks that it rebuilt exactly what the live projections had built.
    pub async fn read_models_equal_a_replay(&self, reservations: &[uuid::Uuid]) {
        use conserje_gateway::operations;
        let rt = &self.app.runtime;
        crate::eventually_within(
            "every projection catches up",
            Duration::from_secs(60),
            || async {
                operations::projections(rt)
                    .await
                    .unwrap()
                    .iter()
                    .all(|p| p.lag == 0)
            },
        )
        .await;
        let rows = || async {
            let mut out = Vec::new();
            for id in reservations {
                out.push((
                    rt.reservation_rows.get(*id).await.unwrap(),
                    rt.reservation_views.get(*id).await.unwrap(),
                ));
            }
            out
        };
        crate::eventually_within("the mirror catches up", Duration::from_secs(30), || async {
            rows()
                .await
                .iter()
                .all(|(row, view)| row.is_some() && row == view)
        })
        .await;
        let live = rows().await;
        for projection in operations::REPLAYABLE {
            operations::replay(rt, projection, false)
                .await
                .unwrap_or_else(|e| panic!("{projection} replays: {e:#}"));
        }
        assert_eq!(rows().await, live, "the reservations rebuilt by replay");
    }
}
