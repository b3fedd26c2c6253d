//! `conserje pms check` against a QloApps shop (the local simulator): what an operator reads
//! after configuring `[hotels.X.pms]`.

use std::time::Duration;

use conserje_gateway::pms_cli::{check, PmsCheck};
use conserje_tests::pms::{qloapps_config, QLOAPPS_KEY};
use conserje_tests::simulators::qloapps::{QloAppsSimulator, SimHotel};

const TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_well_configured_hotel_passes_every_step() {
    let pms = QloAppsSimulator::start(QLOAPPS_KEY, SimHotel::sample()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = qloapps_config(dir.path(), &pms.base_url());
    let found = check("default", Some(&config), TIMEOUT).await.unwrap();
    let text = found.render("default");
    assert!(found.ok(), "{text}");
    assert!(text.contains("conserje can book in this PMS."), "{text}");
    for step in ["reach", "key", "permissions", "room types", "availability"] {
        assert!(
            text.contains(&format!("ok   {step}")),
            "{step} passed: {text}"
        );
    }
}

#[tokio::test]
async fn a_key_the_pms_refuses_is_named_in_plain_words() {
    let pms = QloAppsSimulator::start(QLOAPPS_KEY, SimHotel::sample()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = qloapps_config(dir.path(), &pms.base_url());
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(QLOAPPS_KEY, "WRONGKEYWRONGKEYWRONGKEYWRONGKEY"),
    )
    .unwrap();
    let found = check("default", Some(&config), TIMEOUT).await.unwrap();
    let text = found.render("default");
    assert!(!found.ok());
    assert!(text.contains("FAIL key"), "{text}");
    assert!(text.contains("cannot work with this PMS"), "{text}");
}

#[tokio::test]
async fn a_mapping_to_a_room_type_the_pms_lacks_is_named() {
    let pms = QloAppsSimulator::start(QLOAPPS_KEY, SimHotel::sample()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = qloapps_config(dir.path(), &pms.base_url());
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("suite = 14", "suite = 99")).unwrap();
    let found = check("default", Some(&config), TIMEOUT).await.unwrap();
    let text = found.render("default");
    assert!(!found.ok());
    assert!(
        text.contains("FAIL room types") && text.contains("99"),
        "{text}"
    );
}

#[tokio::test]
async fn a_pms_nobody_answers_at_is_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = qloapps_config(dir.path(), &format!("http://127.0.0.1:{port}"));
    let found = check("default", Some(&config), TIMEOUT).await.unwrap();
    let text = found.render("default");
    assert!(!found.ok());
    assert!(text.contains("FAIL reach"), "{text}");
}

#[tokio::test]
async fn hotels_on_the_simulator_and_unknown_hotels_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let config = qloapps_config(dir.path(), "http://127.0.0.1:9");
    let found = check("hotel-sol", Some(&config), TIMEOUT).await.unwrap();
    assert!(matches!(found, PmsCheck::Simulator));
    assert!(found.render("hotel-sol").contains("built-in PMS simulator"));
    let err = check("hotel-nowhere", Some(&config), TIMEOUT)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("hotel-nowhere") && err.contains("hotel-sol"),
        "the error names the hotel and the configured ones: {err}"
    );
}

#[tokio::test]
async fn a_short_key_is_refused_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let config = qloapps_config(dir.path(), "http://127.0.0.1:9");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace(QLOAPPS_KEY, "short")).unwrap();
    let err = format!(
        "{:#}",
        check("default", Some(&config), TIMEOUT).await.unwrap_err()
    );
    assert!(
        err.contains("32"),
        "the error says what a key must be: {err}"
    );
}
