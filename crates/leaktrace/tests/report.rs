//! The incident report as a person sees it: the demo writes report.html and the drafts; the page
//! is self-contained, holds no personal value, and its charts render in headless Chromium
//! (Debian's `chromium`, installed by `.ci/run`). The drafts are snapshot-tested.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run_demo(dir: &Path) -> PathBuf {
    let report = dir.join("report");
    let out = Command::new(env!("CARGO_BIN_EXE_leaktrace"))
        .args(["--quiet", "demo", "--persons", "3000", "--seed", "42"])
        .arg("--report")
        .arg(&report)
        .args(["--discovered-at", "2026-11-20T09:30+01:00"])
        .env("LEAKTRACE_HOME", dir.join("home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Pixels of each chart colour in a PNG screenshot.
fn colour_counts(png_path: &Path, colours: &[[u8; 3]]) -> Vec<usize> {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    let near = |p: &[u8], c: &[u8; 3]| (0..3).all(|i| p[i].abs_diff(c[i]) <= 6);
    colours
        .iter()
        .map(|c| {
            buf[..info.buffer_size()]
                .chunks_exact(step)
                .filter(|p| near(p, c))
                .count()
        })
        .collect()
}

#[test]
fn report_renders_and_drafts_are_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let report = run_demo(tmp.path());
    let html = std::fs::read_to_string(report.join("report.html")).unwrap();
    // Self-contained: no script, stylesheet link, font or remote resource.
    for banned in [
        "<script",
        "<link",
        "@import",
        "url(",
        "https://",
        "http://www.",
    ] {
        assert!(!html.contains(banned), "report.html contains {banned}");
    }
    assert_eq!(html.matches("<svg").count(), 6, "six charts");
    // The sixth: persons by registration month, decrypted from the registry's context.bin
    // (3000 persons registered over 105 months: grouped by quarter).
    assert!(
        html.contains("Persons affected by month of date_inscription, grouped by quarter"),
        "context chart caption"
    );
    assert!(html.contains("persons affected have a <code>date_inscription</code>"));
    // No personal value: no e-mail address, no 10-digit phone, no 13-digit NIR.
    // (`source@2023-06-15` labels are dates; an e-mail's domain starts with a letter and its
    // local part ends with one or a digit, where the stylesheet's `@media print` starts a line.)
    assert!(
        !html.as_bytes().windows(3).any(|w| {
            (w[0].is_ascii_alphanumeric() || w[0] == b'.' || w[0] == b'_')
                && w[1] == b'@'
                && w[2].is_ascii_alphabetic()
        }),
        "an e-mail address in report.html"
    );
    let digits_run = html
        .as_bytes()
        .split(|b| !b.is_ascii_digit())
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0);
    assert!(
        digits_run < 10,
        "a long digit run (phone or NIR?) in report.html"
    );
    let affected = std::fs::read_to_string(report.join("affected_persons.csv")).unwrap();
    assert!(affected.starts_with("person_id,categories\n"));
    assert!(affected.lines().count() > 100);

    // Drafts: snapshots (deterministic data, fixed discovery date).
    for name in ["art33_fr.md", "art33_en.md", "art34_fr.md"] {
        let text = std::fs::read_to_string(report.join(name)).unwrap();
        insta::assert_snapshot!(name, text);
    }
    let fr = std::fs::read_to_string(report.join("art33_fr.md")).unwrap();
    assert!(fr.contains("Échéance de notification (72 heures) : 2026-11-23 09:30+01:00"));

    // Rendered like a person sees it.
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium (.ci/run installs Debian's chromium)"
        );
        eprintln!("skipping the rendering check: no Chromium on this machine");
        return;
    };
    let shot = tmp.path().join("report.png");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1000,3600",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", report.join("report.html").display()))
        .output()
        .unwrap();
    assert!(shot.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    // Every chart's bar colour is on screen: rows linked (red), field agreement (green),
    // attribution (blue), categories (purple), departments (orange), registration months (teal).
    let colours = [
        [0xc0, 0x39, 0x2b],
        [0x2e, 0x7d, 0x32],
        [0x1f, 0x5f, 0xa8],
        [0x8e, 0x44, 0xad],
        [0xd3, 0x54, 0x00],
        [0x00, 0x89, 0x7b],
    ];
    let counts = colour_counts(&shot, &colours);
    for (c, n) in colours.iter().zip(&counts) {
        assert!(
            *n > 500,
            "chart colour {c:02x?} covers only {n} pixels: {counts:?}"
        );
    }
}
