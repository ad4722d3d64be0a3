//! A real `bellhop serve` takes the public AlpineBits push sample over HTTP (logging at
//! `debug`), and the sample's test card number appears nowhere: not in the answer, not in
//! the database file, not in the log. Then `bellhop alpinebits parse` reads the same sample
//! without printing it either.

mod support;

use base64::Engine as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const CARD: &str = "4444333322221111";
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../alpinebits/tests/fixtures/samples-2018-10/GuestRequests-OTA_HotelResNotifRQ-reservation-push.xml"
);

fn bellhop(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bellhop"));
    c.current_dir(dir)
        .env("BELLHOP_DATABASE", dir.join("channels.db"))
        .env("BELLHOP_EMAIL__FOLDER", dir.join("mail"))
        .env("BELLHOP_SMS__FOLDER", dir.join("sms"))
        .env("BELLHOP_LOG", "debug");
    c
}

fn grep_dir(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(grep_dir(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn the_sample_card_number_is_never_stored_logged_or_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let created = bellhop(dir.path())
        .args(["account", "create", "--name", "Hotel Frangart"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let stdout = String::from_utf8(created.stdout).unwrap();
    let key = stdout
        .lines()
        .find_map(|l| l.strip_prefix("api key "))
        .expect("the key is printed")
        .to_owned();
    let port = support::free_port();
    let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
    let mut server = bellhop(dir.path())
        .arg("serve")
        .env("BELLHOP_LISTEN", format!("127.0.0.1:{port}"))
        .env("BELLHOP_INBOUND__SMTP_LISTEN", "127.0.0.1:0")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    support::wait_for("bellhop serve", Duration::from_secs(60), || {
        assert!(server.try_wait().unwrap().is_none(), "bellhop serve exited");
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer = runtime.block_on(async {
        let http = bellhop_transport::sms::http_client(Duration::from_secs(30)).unwrap();
        let property: serde_json::Value = http
            .post(format!("{base}/api/v1/properties"))
            .bearer_auth(&key)
            .json(&serde_json::json!({"name": "Frangart Inn", "time_zone": "Europe/Rome", "country": "IT",
                "default_language": "de", "sender_email": "info@frangart.example", "sender_name": "Frangart Inn"}))
            .send().await.unwrap().json().await.unwrap();
        let connection: serde_json::Value = http
            .post(format!("{base}/api/v1/properties/{}/channels", property["id"].as_str().unwrap()))
            .bearer_auth(&key)
            .json(&serde_json::json!({"name": "Südtirol", "kind": "alpinebits"}))
            .send().await.unwrap().json().await.unwrap();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            connection["alpinebits_user"].as_str().unwrap(),
            connection["alpinebits_password"].as_str().unwrap()
        ));
        let xml = std::fs::read_to_string(SAMPLE).unwrap();
        let body = format!(
            "--b0undary\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nOTA_HotelResNotif:GuestRequests\r\n\
             --b0undary\r\nContent-Disposition: form-data; name=\"request\"\r\n\r\n{xml}\r\n--b0undary--\r\n"
        );
        let response = http
            .post(format!("{base}/alpinebits"))
            .header("authorization", format!("Basic {basic}"))
            .header("x-alpinebits-clientprotocolversion", "2018-10")
            .header("x-alpinebits-clientid", "card-test")
            .header("content-type", "multipart/form-data; boundary=b0undary")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        let answer = response.text().await.unwrap();
        let bookings: serde_json::Value = http
            .get(format!("{base}/api/v1/bookings"))
            .bearer_auth(&key)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(bookings["items"].as_array().unwrap().len(), 1, "{bookings}");
        assert_eq!(bookings["items"][0]["external_id"], "6b34fe24ac2ff810");
        let export: serde_json::Value = http
            .get(format!("{base}/api/v1/contacts/{}/export", bookings["items"][0]["contact_id"].as_str().unwrap()))
            .bearer_auth(&key)
            .send().await.unwrap().json().await.unwrap();
        format!("{answer}\n{bookings}\n{export}")
    });
    support::stop_gracefully(&mut server);
    assert!(answer.contains(r#"ID="6b34fe24ac2ff810""#), "{answer}");
    assert!(!answer.contains(CARD), "the card number was echoed");
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(
        log.contains("alpinebits request"),
        "the request was logged at debug: {log}"
    );
    let found = grep_dir(dir.path(), CARD);
    assert!(found.is_empty(), "the card number is in {found:?}");

    let parsed = bellhop(dir.path())
        .args(["alpinebits", "parse", "--json", SAMPLE])
        .output()
        .unwrap();
    assert!(parsed.status.success(), "{parsed:?}");
    let out = String::from_utf8(parsed.stdout).unwrap();
    assert!(
        out.contains("\"external_id\":\"6b34fe24ac2ff810\""),
        "{out}"
    );
    assert!(!out.contains(CARD) && !String::from_utf8_lossy(&parsed.stderr).contains(CARD));
    let refused = bellhop(dir.path())
        .args(["alpinebits", "parse", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(
                b"<!DOCTYPE x [<!ENTITY a \"b\">]><OTA_HotelResNotifRQ>&a;</OTA_HotelResNotifRQ>",
            )?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("DOCTYPE"),
        "{error}"
    );
}
