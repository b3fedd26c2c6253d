//! `conserje pms check [--tenant T]`: connects to a hotel's PMS with the settings `serve` would
//! use and says, in plain words, whether conserje can work with it — reached, key taken, the
//! rights it needs, the room-type mapping against the PMS's own room types, one availability
//! search. An operator runs it after editing `[hotels.X.pms]`, before guests find out.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use conserje_infra::config::ConfigFile;
use conserje_infra::pms::qloapps::{CheckReport, QloApps};
use conserje_infra::pms::router::PmsOptions;

use crate::settings::millis;

/// What to do with the hotels' PMSs.
#[derive(Debug, Subcommand)]
pub enum PmsAction {
    /// Check a hotel's PMS settings against the PMS itself: reachability, key, permissions,
    /// room-type mapping and one availability search. Exits with status 1 when anything fails.
    Check {
        /// The hotel (its key under [hotels] in the configuration).
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Hotel configuration file; the built-in one when absent.
        #[arg(long, env = "CONSERJE_CONFIG")]
        config: Option<PathBuf>,
        /// Milliseconds each PMS request may take.
        #[arg(long, env = "CONSERJE_PMS_TIMEOUT_MS",
            default_value_t = millis(PmsOptions::default().timeout),
            value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..))]
        pms_timeout_ms: u64,
    },
}

/// What a check found.
#[derive(Debug)]
pub enum PmsCheck {
    /// The hotel books in the built-in simulator: nothing outside conserje to check.
    Simulator,
    /// The hotel's QloApps, step by step.
    QloApps {
        base_url: String,
        report: CheckReport,
    },
}

impl PmsCheck {
    pub fn ok(&self) -> bool {
        match self {
            Self::Simulator => true,
            Self::QloApps { report, .. } => report.ok(),
        }
    }

    /// The report as the operator reads it.
    pub fn render(&self, tenant: &str) -> String {
        match self {
            Self::Simulator => format!(
                "hotel {tenant} books in conserje's built-in PMS simulator (pms.kind = \
                 \"simulator\"): there is no PMS of its own to check"
            ),
            Self::QloApps { base_url, report } => {
                let mut out = format!("hotel {tenant}: QloApps at {base_url}\n");
                for step in &report.steps {
                    let mark = if step.ok { "ok  " } else { "FAIL" };
                    out.push_str(&format!("  {mark} {:<12} {}\n", step.name, step.detail));
                }
                out.push_str(if report.ok() {
                    "conserje can book in this PMS."
                } else {
                    "conserje cannot work with this PMS until the failed steps are fixed."
                });
                out
            }
        }
    }
}

/// Checks `tenant`'s PMS as configured in `config` (the built-in configuration when `None`,
/// environment overrides applied).
pub async fn check(
    tenant: &str,
    config: Option<&std::path::Path>,
    timeout: Duration,
) -> anyhow::Result<PmsCheck> {
    let file = ConfigFile::load(config).context("cannot read the hotel configuration")?;
    let Some(hotel) = file.hotels.get(tenant) else {
        let known: Vec<&str> = file.hotels.keys().map(String::as_str).collect();
        bail!(
            "no hotel {tenant:?} in the configuration; its hotels are: {}",
            known.join(", ")
        );
    };
    let settings = hotel
        .pms
        .qloapps()
        .map_err(|e| anyhow::anyhow!("hotel {tenant}'s [pms] settings: {e}"))?;
    let Some(settings) = settings else {
        return Ok(PmsCheck::Simulator);
    };
    let base_url = settings.base_url.clone();
    let report = QloApps::new(settings, timeout).check().await;
    Ok(PmsCheck::QloApps { base_url, report })
}

pub async fn run(action: PmsAction) -> anyhow::Result<()> {
    match action {
        PmsAction::Check {
            tenant,
            config,
            pms_timeout_ms,
        } => {
            let found = check(
                &tenant,
                config.as_deref(),
                Duration::from_millis(pms_timeout_ms),
            )
            .await?;
            println!("{}", found.render(&tenant));
            if !found.ok() {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
