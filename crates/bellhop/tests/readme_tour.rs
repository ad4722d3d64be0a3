//! The README's tour, run as written against `bellhop serve`: the two `sh` blocks after "A
//! short tour with `curl`" are extracted from README.md, pointed at this test's port, and run
//! with bash (`set -euo pipefail`; every call fails on an HTTP error). Then the messages it
//! planned are counted: on any date, the tour plans mails that will go out.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The `sh` code blocks of the README from the tour on.
fn tour_blocks() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let start = readme
        .find("A short tour with `curl`")
        .expect("the README has its tour");
    let end = readme[start..]
        .find("## Configuration")
        .map_or(readme.len(), |i| start + i);
    readme[start..end]
        .split("```sh\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap_or_default().to_owned())
        .collect()
}

fn bellhop(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bellhop"));
    c.current_dir(dir)
        .env("BELLHOP_DATABASE", dir.join("tour.db"))
        .env("BELLHOP_EMAIL__FOLDER", dir.join("mail"))
        .env("BELLHOP_SMS__FOLDER", dir.join("sms"))
        .env("BELLHOP_LOG", "warn");
    c
}

#[test]
fn the_readme_tour_runs_as_written_and_plans_mails_on_any_date() {
    let blocks = tour_blocks();
    assert_eq!(blocks.len(), 2, "the tour and its SMS part");
    let dir = tempfile::tempdir().unwrap();
    let created = bellhop(dir.path())
        .args(["account", "create", "--name", "Hotel Alpenblick"])
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
    let mut server = bellhop(dir.path())
        .arg("serve")
        .env("BELLHOP_LISTEN", format!("127.0.0.1:{port}"))
        .env("BELLHOP_INBOUND__SMTP_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    support::wait_for("bellhop serve", Duration::from_secs(60), || {
        assert!(server.try_wait().unwrap().is_none(), "bellhop serve exited");
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });

    let check = r#"
echo "planned=$(api '/messages?limit=200' | jq '[.items[] | select(.status == "planned")] | length')"
echo "again=$(api /properties/$P/presets -d '{"set":"hotel"}' | jq '.installed | length')"
"#;
    let script = format!("{}\n{}\n{check}", blocks[0], blocks[1])
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
    let run = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("KEY", &key)
        .output()
        .unwrap();
    support::stop_gracefully(&mut server);
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "the tour failed:\n{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let value = |name: &str| -> usize {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
    };
    // Two stays under the hotel presets and the tour's own rule, and the salon's SMS reminder.
    assert!(value("planned") >= 6, "{out}");
    assert_eq!(
        value("again"),
        0,
        "installing presets twice changes nothing"
    );
    // The hotel is in Vienna: its case numbers count the year there.
    let year = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Europe/Vienna").unwrap())
        .year();
    assert!(
        out.contains(&format!(
            r#"{{"decision":"replied","case_number":"REK-{year}-000001""#
        )),
        "the complaint is answered with a case number:\n{out}"
    );
    assert!(
        out.contains(r#"{"reply":false,"reason":"null envelope sender"#),
        "a bounce is not answered:\n{out}"
    );
}
