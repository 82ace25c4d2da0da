//! `leaktrace analyze` as a user runs it: its terminal summary names the verdict and the
//! affected persons' registration period, decrypted from the enrolled context attribute.

use std::process::Command;

#[test]
fn the_summary_gives_the_registration_period_of_the_affected_persons() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_leaktrace"))
            .args(["--color", "never"])
            .args(args)
            .env("LEAKTRACE_HOME", dir.path().join("home"))
            .env("LEAKTRACE_KEY_FILE", dir.path().join("key"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let d = data.to_str().unwrap();
    run(&[
        "--quiet",
        "synth",
        "--persons",
        "3000",
        "--seed",
        "7",
        "--out",
        d,
    ]);
    run(&["--quiet", "init"]);
    run(&[
        "enroll",
        "--source",
        "registry",
        "--as-of",
        "2026-10-01",
        &format!("{d}/registry.csv"),
    ]);
    run(&[
        "enroll",
        "--source",
        "provider_docs",
        "--recipient",
        "Prestataire Docs",
        "--as-of",
        "2022-03-05",
        &format!("{d}/extracts/provider_docs_2022-02.csv"),
    ]);
    let out = dir.path().join("report");
    let summary = run(&[
        "analyze",
        "--out",
        out.to_str().unwrap(),
        &format!("{d}/leaks/provider_noheader.csv"),
    ]);
    assert!(summary.starts_with("Authentic:"), "{summary}");
    // The provider was handed the persons registered in February 2022.
    assert!(
        summary.contains("context: 99 % of the affected persons have date_inscription in 2022-02; most in 2022-02"),
        "{summary}"
    );
}
