//! The built-in layout in a real browser: two presets rendered by `bellhop presets preview`
//! and screenshotted by headless Chromium in the light and the dark scheme. The dark
//! screenshot must differ from the light one (the layout follows `prefers-color-scheme`).
//! `scripts/mail-screenshots` writes the same for every preset into `docs/mails/`.

use std::path::Path;
use std::process::Command;

fn chromium() -> &'static str {
    for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(candidate).exists() {
            return candidate;
        }
    }
    panic!("chromium is missing: apt-get install chromium (.ci/run installs it)");
}

fn screenshot(html: &Path, png: &Path, dark: bool) {
    let mut c = Command::new(chromium());
    c.args([
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=680,720",
    ]);
    if dark {
        c.arg("--blink-settings=preferredColorScheme=0");
    }
    let out = c
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn presets_render_in_the_built_in_layout_in_a_real_browser_light_and_dark() {
    let dir = tempfile::tempdir().unwrap();
    for (key, language) in [("pre_arrival", "de"), ("appointment_reminder", "en")] {
        let preview = Command::new(env!("CARGO_BIN_EXE_bellhop"))
            .args(["presets", "preview", key, "--language", language])
            .output()
            .unwrap();
        assert!(preview.status.success(), "{preview:?}");
        let html = String::from_utf8(preview.stdout).unwrap();
        assert!(html.contains("prefers-color-scheme: dark") && html.contains("Hotel Gruber"));
        let page = dir.path().join(format!("{key}.html"));
        std::fs::write(&page, &html).unwrap();
        let (light, dark) = (
            dir.path().join(format!("{key}.light.png")),
            dir.path().join(format!("{key}.dark.png")),
        );
        screenshot(&page, &light, false);
        screenshot(&page, &dark, true);
        let (light, dark) = (std::fs::read(light).unwrap(), std::fs::read(dark).unwrap());
        assert!(
            light.starts_with(b"\x89PNG") && light.len() > 10_000,
            "{key}: a page was drawn"
        );
        assert_ne!(light, dark, "{key}: the dark scheme changes the page");
    }
}
