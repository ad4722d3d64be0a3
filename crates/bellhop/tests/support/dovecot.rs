//! A real Dovecot IMAP server on a free loopback port, one user, plaintext login (loopback
//! only), Maildir in a temporary folder; and a minimal IMAP client that APPENDs a message.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "rezeption";
pub const PASSWORD: &str = "imap-secret";

pub struct Dovecot {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Dovecot {
    pub fn start() -> Dovecot {
        let binary = ["/usr/sbin/dovecot", "/usr/bin/dovecot"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("dovecot is missing: apt-get install dovecot-imapd (.ci/run installs it)");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in ["run", "state", "mail", "home"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        // Mail belongs to nobody; the folders must let that user write.
        Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(root.join("mail"))
            .arg(root.join("home"))
            .status()
            .unwrap();
        Command::new("chmod")
            .args(["755"])
            .arg(root)
            .status()
            .unwrap();
        std::fs::write(root.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        let port = super::free_port();
        let conf = format!(
            r#"base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"#,
            root = root.display()
        );
        std::fs::write(root.join("dovecot.conf"), conf).unwrap();
        let child = Command::new(binary)
            .args(["-F", "-c"])
            .arg(root.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dovecot");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "dovecot did not start: {}",
                std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Dovecot { port, dir, child }
    }

    /// APPENDs `message` to the user's INBOX, as a mail client or a delivery agent would.
    pub fn append(&self, message: &str) {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut line = String::new();
        let mut read_until = |reader: &mut BufReader<TcpStream>, prefix: &str| loop {
            line.clear();
            assert!(reader.read_line(&mut line).unwrap() > 0, "IMAP closed");
            if line.starts_with(prefix) {
                assert!(!line.contains(" NO ") && !line.contains(" BAD "), "{line}");
                return line.clone();
            }
        };
        read_until(&mut reader, "* OK");
        write!(writer, "a1 LOGIN {USER} {PASSWORD}\r\n").unwrap();
        read_until(&mut reader, "a1 ");
        let message = message.replace("\r\n", "\n").replace('\n', "\r\n");
        write!(writer, "a2 APPEND INBOX {{{}}}\r\n", message.len()).unwrap();
        read_until(&mut reader, "+");
        write!(writer, "{message}\r\n").unwrap();
        read_until(&mut reader, "a2 ");
        write!(writer, "a3 LOGOUT\r\n").unwrap();
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
