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
