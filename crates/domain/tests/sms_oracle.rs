//! Differential test of the SMS segmenter against an oracle bellhop did not write: Twilio's
//! `sms-segments-calculator@1.3.0` (npm), run with the machine's node on generated texts.
//! `scripts/test` installs the package into `target/oracle`; `BELLHOP_SMS_ORACLE` may point
//! at another folder holding `node_modules/sms-segments-calculator`.

use bellhop_domain::sms;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A small deterministic generator (xorshift64*), so that a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, pool: &[&'a str]) -> &'a str {
        pool[self.below(pool.len())]
    }
}

const GSM: &[&str] = &[
    "a", "b", "e", "n", "r", "s", "t", " ", " ", "1", "0", ".", ",", "!", "?", "@", "$", "ä", "ö",
    "ü", "ß", "é", "è", "à", "Ä", "Ñ", "£", "¥", "§", "¿", "¡", "Δ", "Ω", "_", "\n", "Ç", "ø",
];
const EXTENSION: &[&str] = &["€", "[", "]", "{", "}", "\\", "^", "~", "|"];
const BMP: &[&str] = &[
    "ç", "á", "ó", "í", "ú", "ê", "œ", "Ж", "я", "中", "ş", "ł", "“", "’", "–",
];
const ASTRAL: &[&str] = &["😀", "🎉", "👍", "🇮🇹", "🇦🇹", "👨‍👩‍👧", "🏳️‍🌈", "❤️"];
/// Look-alikes both tables map. Not the no-break space: the oracle maps it to two spaces,
/// bellhop to one (U+00A0 is one space wide).
const SMART: &[&str] = &[
    "“", "”", "„", "‘", "’", "«", "»", "–", "—", "´", "`", "…", "½",
];

/// Lengths cluster at the boundaries where bugs live: 70/67, 160/153 and their multiples.
fn length(rng: &mut Rng) -> usize {
    let centres = [67, 70, 134, 153, 160, 201, 306, 459];
    let c = centres[rng.below(centres.len())];
    (c + rng.below(9)).saturating_sub(4).max(1)
}

fn text(rng: &mut Rng, pools: &[&[&str]]) -> String {
    let n = length(rng);
    let mut s = String::new();
    let mut pool = pools[0];
    for _ in 0..n {
        // Mostly the first pool, now and then another one: a single emoji in a long
        // GSM text is the interesting case.
        if rng.below(12) == 0 {
            pool = pools[rng.below(pools.len())];
        }
        s.push_str(rng.pick(pool));
        if rng.below(4) == 0 {
            pool = pools[0];
        }
    }
    s
}

fn oracle_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("BELLHOP_SMS_ORACLE") {
        return dir.into();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/oracle")
}

fn run_oracle(cases: &[(String, bool)]) -> Vec<(String, usize, Vec<String>)> {
    let dir = oracle_dir();
    assert!(
        dir.join("node_modules/sms-segments-calculator").exists(),
        "the SMS oracle is missing: npm install --prefix {} sms-segments-calculator@1.3.0 \
         (scripts/test does this)",
        dir.display()
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/segments.js");
    let mut child = Command::new("node")
        .arg(script)
        .env("NODE_PATH", dir.join("node_modules"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs (it is on every machine of this kind)");
    let input = serde_json::to_vec(cases).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the oracle failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn compare(cases: Vec<(String, bool)>) {
    let expected = run_oracle(&cases);
    let mut mismatches = Vec::new();
    for ((text, smart), (encoding, segments, non_gsm)) in cases.iter().zip(expected) {
        let ours = sms::analyze(text, *smart);
        let mut theirs = non_gsm.clone();
        theirs.sort();
        let mut mine = ours.non_gsm.clone();
        mine.sort();
        if ours.encoding.as_str() != encoding || ours.segments != segments || mine != theirs {
            mismatches.push(format!(
                "{text:?} (smart {smart}): ours {} × {} {:?}, oracle {encoding} × {segments} {non_gsm:?}",
                ours.encoding, ours.segments, ours.non_gsm
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} texts differ from the oracle:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );
}

#[test]
fn segments_and_encoding_agree_with_twilios_calculator_on_generated_texts() {
    let mut rng = Rng(0x5EED_B311_0000_0001);
    let mixes: [&[&[&str]]; 5] = [
        &[GSM],
        &[GSM, EXTENSION],
        &[GSM, BMP],
        &[BMP, ASTRAL],
        &[GSM, EXTENSION, BMP, ASTRAL],
    ];
    let cases: Vec<(String, bool)> = (0..2000)
        .map(|i| (text(&mut rng, mixes[i % mixes.len()]), false))
        .collect();
    compare(cases);
}

#[test]
fn smart_encoded_texts_agree_with_twilios_calculator() {
    // Only texts that smart encoding makes GSM-7: bellhop leaves the others unchanged (a
    // lossy replacement that saves nothing), where Twilio replaces anyway.
    let mut rng = Rng(0x5EED_B311_0000_0002);
    let cases: Vec<(String, bool)> = (0..500)
        .map(|_| (text(&mut rng, &[GSM, SMART, EXTENSION]), true))
        .collect();
    compare(cases);
}
