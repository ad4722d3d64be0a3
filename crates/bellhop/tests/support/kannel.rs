//! A real Kannel on loopback: bearerbox, smsbox and the fake SMSC from kannel-extras, each
//! on free ports, in a scratch folder (shared/research/standards-sms-consent-autoreply.md §4.4).
//! fakesmsc prints every SMS it receives and answers with delivery reports (types 8 and 1);
//! given texts it sends them as inbound SMS (MO).

use super::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BEARERBOX: &str = "/usr/sbin/bearerbox";
const SMSBOX: &str = "/usr/sbin/smsbox";
const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";

pub struct Kannel {
    pub dir: tempfile::TempDir,
    pub sendsms_port: u16,
    pub admin_port: u16,
    smsc_port: u16,
    bearerbox: Child,
    smsbox: Option<Child>,
    fakesmsc: Option<Child>,
    fakesmsc_log: Option<PathBuf>,
}

pub const USER: &str = "tester";
pub const PASSWORD: &str = "foobar";
pub const MO_TOKEN: &str = "mo-secret";

fn wait_port(port: u16, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} did not start on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn spawn(binary: &str, args: &[&str], dir: &Path, log: &str) -> Child {
    assert!(
        Path::new(binary).exists(),
        "{binary} is missing: apt-get install kannel kannel-extras (.ci/run does)"
    );
    let out = std::fs::File::create(dir.join(log)).unwrap();
    Command::new(binary)
        .args(args)
        .current_dir(dir)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {binary}: {e}"))
}

impl Kannel {
    /// Starts bearerbox, a silent fakesmsc and smsbox; inbound SMS go to `mo_url` (bellhop's
    /// `/callbacks/sms/kannel/mo`).
    pub fn start(mo_base: &str) -> Kannel {
        let dir = tempfile::tempdir().unwrap();
        let (admin_port, smsbox_port, smsc_port, sendsms_port) =
            (free_port(), free_port(), free_port(), free_port());
        let config = format!(
            r#"group = core
admin-port = {admin_port}
admin-interface = 127.0.0.1
admin-password = bar
smsbox-port = {smsbox_port}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "bearerbox.log"
log-level = 1
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake1
our-host = 127.0.0.1
port = {smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox_port}
sendsms-port = {sendsms_port}
sendsms-interface = 127.0.0.1
global-sender = 12345
log-file = "smsbox.log"
log-level = 1

group = sendsms-user
username = {USER}
password = {PASSWORD}
concatenation = true
max-messages = 10

group = sms-service
keyword = default
get-url = "{mo_base}/callbacks/sms/kannel/mo?token={MO_TOKEN}&from=%p&to=%P&text=%a&smsc=%i"
max-messages = 0
catch-all = true
"#
        );
        std::fs::write(dir.path().join("kannel.conf"), config).unwrap();
        let bearerbox = spawn(BEARERBOX, &["-v", "1", "kannel.conf"], dir.path(), "bb.out");
        wait_port(smsbox_port, "bearerbox");
        let mut k = Kannel {
            dir,
            sendsms_port,
            admin_port,
            smsc_port,
            bearerbox,
            smsbox: None,
            fakesmsc: None,
            fakesmsc_log: None,
        };
        k.start_fakesmsc(&[]);
        k.smsbox = Some(spawn(
            SMSBOX,
            &["-v", "1", "kannel.conf"],
            k.dir.path(),
            "sb.out",
        ));
        wait_port(sendsms_port, "smsbox");
        k.wait_status("SMSC online", |s| s.contains("online"));
        k
    }

    /// (Re)starts the fake SMSC; `mo` are texts it sends as inbound SMS
    /// (`"<from> <to> text <words>"`), one each second.
    pub fn start_fakesmsc(&mut self, mo: &[&str]) {
        if let Some(mut old) = self.fakesmsc.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        let port = self.smsc_port.to_string();
        let max = mo.len().to_string();
        let mut args = vec!["-H", "127.0.0.1", "-r", &port, "-i", "1", "-m", &max];
        let runs = std::fs::read_dir(self.dir.path())
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("fakesmsc"))
                    .count()
            })
            .unwrap_or(0);
        let log = format!("fakesmsc-{runs}.out");
        let messages: Vec<String> = if mo.is_empty() {
            vec!["+10 +20 text unused".into()]
        } else {
            mo.iter().map(|m| m.to_string()).collect()
        };
        args.extend(messages.iter().map(String::as_str));
        self.fakesmsc = Some(spawn(FAKESMSC, &args, self.dir.path(), &log));
        self.fakesmsc_log = Some(self.dir.path().join(log));
    }

    /// Everything the fake SMSC printed.
    pub fn fakesmsc_output(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with("fakesmsc") {
                out.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        out
    }

    /// Bearerbox's status page.
    pub fn status(&self) -> String {
        let mut stream = match std::net::TcpStream::connect(("127.0.0.1", self.admin_port)) {
            Ok(s) => s,
            Err(_) => return String::new(),
        };
        use std::io::{Read, Write};
        let _ = write!(
            stream,
            "GET /status.txt?password=bar HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
        );
        let mut body = String::new();
        let _ = stream.read_to_string(&mut body);
        body
    }

    fn wait_status(&self, what: &str, done: impl Fn(&str) -> bool) {
        let started = Instant::now();
        loop {
            let s = self.status();
            if done(&s) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "Kannel: {what} not reached:\n{s}\nbearerbox: {}",
                std::fs::read_to_string(self.dir.path().join("bb.out")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn sendsms_url(&self) -> String {
        format!("http://127.0.0.1:{}/cgi-bin/sendsms", self.sendsms_port)
    }

    pub fn logs(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for Kannel {
    fn drop(&mut self) {
        for child in [
            self.smsbox.as_mut(),
            self.fakesmsc.as_mut(),
            Some(&mut self.bearerbox),
        ]
        .into_iter()
        .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
