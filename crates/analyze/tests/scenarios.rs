//! Every generator scenario gets the right verdict, and links score F1 ≥ 0.995 against the truth
//! (recombined files excepted: their truth — the names' person — is ambiguous by design when the
//! borrowed identifiers belong to someone with the same surname).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

mod common;

use common::enrolled;
use leaktrace_analyze::{analyze, eval, write_outputs, AnalyzeOptions, Status};
use leaktrace_synth::read_manifest;

fn check_seed(seed: u64, persons: u64) {
    let fx = enrolled(seed, persons);
    let (data, index) = (&fx.data, fx.ws.load(true).unwrap());
    let scenarios = leaktrace_synth::read_scenarios(data).unwrap();
    assert_eq!(scenarios.len(), 9);
    for s in &scenarios {
        let (a, links) = analyze(
            &index,
            &data.join(&s.file),
            &AnalyzeOptions::default(),
            &|_| {},
        )
        .unwrap();
        assert_eq!(
            a.verdict.status.as_str(),
            s.verdict,
            "seed {seed} {}: {:#?}",
            s.name,
            a.verdict
        );
        assert_eq!(links.len() as u64, s.rows, "{}", s.name);
        // Real extracts hold one person per row: (almost) no contradictory row.
        if s.verdict != "recombined" {
            assert!(
                a.verdict.evidence.contradictory_rows * 200 <= s.rows,
                "seed {seed} {}: {:?}",
                s.name,
                a.verdict.evidence
            );
        }
        let truth = eval::read_truth(&data.join(&s.truth)).unwrap();
        let score = eval::score(&links, &truth);
        let floor = if a.verdict.status == Status::Recombined {
            0.95
        } else {
            0.995
        };
        assert!(score.f1 >= floor, "seed {seed} {}: {score:?}", s.name);
        // Categories count persons per personal column type; rows linked ≥ persons, but a
        // contradictory row exposes fragments of up to two persons, linked or not.
        assert!(
            a.linkage.rows_linked + 2 * a.verdict.evidence.contradictory_rows
                >= a.linkage.persons_affected,
            "{}: {:?} {:?}",
            s.name,
            a.linkage,
            a.verdict.evidence
        );
        assert!(a
            .categories
            .iter()
            .all(|c| c.persons <= a.linkage.persons_affected));
        assert!(!a.verdict.explanation.is_empty());
        check_attribution(seed, s, &a);
        check_context(&registry_months(data), s, &a, &truth, &score);
    }
}

/// person id → `YYYY-MM` of `date_inscription`, read from the synthetic registry.
fn registry_months(data: &Path) -> HashMap<String, String> {
    let m = read_manifest(data).unwrap();
    let mut rdr = csv::Reader::from_path(data.join(&m.registry.file)).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (id, date) = (col("person_id"), col("date_inscription"));
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[id].to_string(), r[date][..7].to_string())
        })
        .collect()
}

/// Persons per registration month of a set of person ids.
fn months_of<'a>(
    months: &HashMap<String, String>,
    ids: impl Iterator<Item = &'a str>,
) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if seen.insert(id) {
            if let Some(m) = months.get(id) {
                *out.entry(m.clone()).or_default() += 1;
            }
        }
    }
    out
}

/// `context` counts the affected persons per registration month, decrypted from the
/// registry's context.bin: exactly the registry's months of the affected persons, and the
/// months of the truly leaked persons (the scenario's truth) up to the linkage errors.
fn check_context(
    months: &HashMap<String, String>,
    s: &leaktrace_synth::Scenario,
    a: &leaktrace_analyze::Analysis,
    truth: &HashMap<u64, Option<String>>,
    score: &eval::Score,
) {
    let c = a
        .context
        .as_ref()
        .expect("the registry keeps date_inscription");
    assert_eq!(c.attribute, "date_inscription", "{}", s.name);
    assert_eq!(c.unit, "month");
    let got: BTreeMap<String, u64> = c
        .values
        .iter()
        .map(|v| (v.value.clone(), v.persons))
        .collect();
    assert!(
        c.values.windows(2).all(|w| w[0].value < w[1].value),
        "sorted"
    );
    assert_eq!(
        got.values().sum::<u64>() + c.persons_without_value,
        a.linkage.persons_affected,
        "{}",
        s.name
    );
    assert_eq!(
        c.persons_without_value, 0,
        "{}: every person is in the registry",
        s.name
    );
    let expected = months_of(months, a.affected.iter().map(|(p, _)| p.as_str()));
    assert_eq!(
        got, expected,
        "{}: context vs the affected persons' months",
        s.name
    );
    // Against the truth: the truly leaked persons' months (a recombined file's truth names
    // only the persons of its names; the owners of its identifiers are affected too).
    if s.verdict == "recombined" {
        return;
    }
    let truth_months = months_of(months, truth.values().flatten().map(String::as_str));
    let keys: std::collections::BTreeSet<&String> = got.keys().chain(truth_months.keys()).collect();
    let diff: u64 = keys
        .iter()
        .map(|k| {
            got.get(*k)
                .copied()
                .unwrap_or(0)
                .abs_diff(truth_months.get(*k).copied().unwrap_or(0))
        })
        .sum();
    // A wrongly linked row adds at most one person to a month, a missed row removes at most
    // one: with perfect links (every authentic scenario here) the counts equal the truth.
    let errors = score.false_positives + score.false_negatives;
    assert!(
        diff <= errors,
        "{}: context differs from the truth's months by {diff} persons with {errors} link errors\n got {got:?}\n truth {truth_months:?}",
        s.name
    );
    if s.verdict == "authentic" && errors == 0 {
        assert_eq!(got, truth_months, "{}", s.name);
    }
}

/// The true source ranks first, innocent sources stay below 0.01 (≥ 100 linked rows), a
/// merged file names both sources, and the extraction window holds the true date.
fn check_attribution(seed: u64, s: &leaktrace_synth::Scenario, a: &leaktrace_analyze::Analysis) {
    if s.sources.is_empty() {
        return;
    }
    let at = &a.attribution;
    let show: Vec<String> = at
        .candidates
        .iter()
        .take(5)
        .map(|c| {
            format!(
                "{} {} {:.3e} {:.1}",
                c.source, c.posterior, c.posterior, c.log_likelihood_ratio
            )
        })
        .collect();
    // Truth names deliveries (`website_2024`); the enrolled source is `website` at that date.
    let truth: Vec<(String, String)> = s
        .sources
        .iter()
        .map(|e| {
            let src = e
                .source
                .trim_end_matches(|c: char| c.is_ascii_digit() || c == '_')
                .to_string();
            (src, e.as_of.clone())
        })
        .collect();
    let is_true = |snap: &leaktrace_attrib::SnapshotRef| {
        truth
            .iter()
            .any(|(src, as_of)| *src == snap.source && *as_of == snap.as_of)
    };
    let top = &at.candidates[0];
    assert_eq!(
        top.snapshots.len(),
        truth.len(),
        "seed {seed} {}: top {show:?}",
        s.name
    );
    assert!(
        top.snapshots.iter().all(is_true),
        "seed {seed} {}: top {show:?}",
        s.name
    );
    if at.rows_used >= 100 {
        for c in &at.candidates[1..] {
            // (An unknown, never-enrolled source accuses nobody.)
            let innocent = c.snapshots.iter().any(|x| !is_true(x));
            if innocent {
                assert!(
                    c.posterior < 0.01,
                    "seed {seed} {}: innocent {} has {}; {show:?}",
                    s.name,
                    c.source,
                    c.posterior
                );
            }
        }
        if top.snapshots.iter().all(|x| x.recipient.is_some()) {
            assert!(at.false_accusation_bound < 0.01, "seed {seed} {}", s.name);
        }
    }
    if truth.len() == 1 && s.verdict != "recombined" {
        let w = &a.extraction_window;
        let date = &truth[0].1;
        // A delivery's date is in the window (a copy may be taken the day it is delivered);
        // a value-version bound is exclusive.
        let inclusive = w.lower.as_ref().is_some_and(|l| l.inclusive);
        assert!(
            w.from
                .as_ref()
                .is_none_or(|f| f < date || (inclusive && f == date))
                && w.to.as_ref().is_none_or(|t| date < t),
            "seed {seed} {}: window {w:?} misses {date}",
            s.name
        );
        // Every scenario but the registry-only ones comes from a delivery: its date bounds
        // the window from below.
        if s.sources.iter().all(|e| e.source != "registry") {
            assert!(w.from.is_some(), "seed {seed} {}: {w:?}", s.name);
        }
    }
}

#[test]
fn verdicts_and_f1_on_every_scenario_seed_42() {
    check_seed(42, 20_000);
}

#[test]
fn verdicts_and_f1_on_every_scenario_seed_7() {
    check_seed(7, 8_000);
}

#[test]
fn outputs_follow_the_schema_and_hold_no_values() {
    let fx = enrolled(5, 3_000);
    let index = fx.ws.load(false).unwrap();
    let leak = fx.data.join("leaks/app_reshaped.csv");
    let (a, links) = analyze(&index, &leak, &AnalyzeOptions::default(), &|_| {}).unwrap();
    let out = fx.dir().join("report");
    write_outputs(&out, &a, &links).unwrap();
    let csv = std::fs::read_to_string(out.join("matches.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("row,person_id,match_probability,agreeing_fields")
    );
    assert_eq!(lines.count() as u64, a.linkage.rows);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("analysis.json")).unwrap()).unwrap();
    for key in [
        "file",
        "columns",
        "linkage",
        "verdict",
        "categories",
        "attribution",
        "extraction_window",
        "combinations",
        "departments",
        "context",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    // Registration months: attribute name, `YYYY-MM` values, sorted, summing to the persons.
    let ctx = &json["context"];
    assert_eq!(ctx["attribute"], "date_inscription");
    assert_eq!(ctx["unit"], "month");
    let values = ctx["values"].as_array().unwrap();
    assert!(values.len() > 12, "{} months", values.len());
    let mut total = ctx["persons_without_value"].as_u64().unwrap();
    let mut last = String::new();
    for v in values {
        let m = v["value"].as_str().unwrap();
        assert!(
            m.len() == 7 && m.as_bytes()[4] == b'-' && m[..4].parse::<u32>().is_ok(),
            "{m}"
        );
        assert!(m > last.as_str(), "sorted");
        last = m.to_string();
        total += v["persons"].as_u64().unwrap();
    }
    assert_eq!(total, json["linkage"]["persons_affected"].as_u64().unwrap());
    assert_eq!(json["file"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(json["verdict"]["status"], "authentic");
    for k in [
        "rows",
        "rows_linked",
        "persons_affected",
        "duplicate_rows",
        "field_agreement",
    ] {
        assert!(json["linkage"].get(k).is_some(), "linkage.{k}");
    }
    // No value of the leak in the outputs: check every e-mail and surname of the leak.
    let text = std::fs::read_to_string(&leak).unwrap();
    let both = format!(
        "{csv}{}",
        std::fs::read_to_string(out.join("analysis.json")).unwrap()
    );
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        for v in [f[0], f[2]] {
            if v.len() >= 5 {
                assert!(!both.contains(v), "{v} leaked into the outputs");
            }
        }
    }
    // A column override naming no column is refused.
    let err = analyze(
        &index,
        &leak,
        &AnalyzeOptions {
            columns: vec![("nope".into(), leaktrace_pii::ColumnType::Phone)],
            ..AnalyzeOptions::default()
        },
        &|_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("has no column \"nope\""), "{err}");
}

/// Rows that fit two deliveries of the same recipient equally, plus one canary planted in the
/// later delivery: the canary decides, and it is not counted as an affected person.
#[test]
fn a_canary_names_its_delivery() {
    use leaktrace_synth::canary::{seed_for, CanaryOptions, FICTION_PHONE_PREFIX};
    use leaktrace_synth::date::Date;
    let mut fx = enrolled(11, 3_000);
    let (data, tmp) = (&fx.data, fx.tmp.path());
    let m = read_manifest(data).unwrap();
    let w24 = m
        .extracts
        .iter()
        .find(|e| e.name == "website_2024")
        .unwrap();
    let w25 = m
        .extracts
        .iter()
        .find(|e| e.name == "website_2025")
        .unwrap();
    let as_of = Date::parse_iso(&w25.as_of).unwrap();
    let canary_file = tmp.join("canaries.tsv");
    let report = leaktrace_analyze::canary::plant(
        &mut fx.ws,
        Some(&data.join(&w25.file)),
        &CanaryOptions {
            recipient: w25.recipient.clone(),
            delivery: "website".into(),
            as_of,
            count: 10,
            email_domain: "canari.example.fr".into(),
            phone_prefix: FICTION_PHONE_PREFIX.into(),
            id_like: None,
            seed: seed_for(&w25.recipient, "website", as_of),
        },
        &canary_file,
    )
    .unwrap();
    assert_eq!(report.count, 10);
    let canary_text = std::fs::read_to_string(&canary_file).unwrap();
    let mut canary_lines = canary_text.lines();
    let header = canary_lines.next().unwrap().to_string();
    assert!(header.starts_with("person_id\temail"), "{header}");
    // Rows identical in both deliveries.
    let old: std::collections::HashSet<String> = std::fs::read_to_string(data.join(&w24.file))
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    let same: Vec<String> = std::fs::read_to_string(data.join(&w25.file))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| old.contains(*l))
        .take(5)
        .map(str::to_string)
        .collect();
    assert_eq!(same.len(), 5);
    let leak = tmp.join("leak.tsv");
    let write = |rows: &[String]| {
        std::fs::write(&leak, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    };
    let index = fx.ws.load(false).unwrap();
    write(&same);
    let (plain, _) = analyze(&index, &leak, &AnalyzeOptions::default(), &|_| {}).unwrap();
    assert_eq!(plain.attribution.canary_rows, 0);
    let mut with = same.clone();
    with.push(canary_lines.next().unwrap().to_string());
    write(&with);
    let (a, _) = analyze(&index, &leak, &AnalyzeOptions::default(), &|_| {}).unwrap();
    let top = &a.attribution.candidates[0];
    assert_eq!(a.attribution.canary_rows, 1, "{:#?}", a.attribution);
    assert_eq!(top.snapshots.len(), 1, "{top:#?}");
    assert_eq!(top.snapshots[0].as_of, w25.as_of, "{:#?}", a.attribution);
    assert!(top.posterior > 0.99, "{:#?}", a.attribution);
    assert!(top
        .evidence
        .iter()
        .any(|e| e.kind == leaktrace_attrib::EvidenceKind::Canary));
    assert_eq!(a.linkage.persons_affected, 5);
    // Without the canary the two deliveries were not told apart this firmly.
    let p25 = |x: &leaktrace_analyze::Analysis| {
        x.attribution
            .candidates
            .iter()
            .find(|c| c.snapshots.len() == 1 && c.snapshots[0].as_of == w25.as_of)
            .map_or(0.0, |c| c.posterior)
    };
    assert!(p25(&plain) < 0.99, "{:#?}", plain.attribution);
}

#[test]
fn a_raised_stop_flag_ends_the_analysis_mid_pass() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let fx = enrolled(5, 3_000);
    let (tmp, data) = (fx.dir(), &fx.data);
    let index = fx.ws.load(false).unwrap();
    // A leak longer than the typing sample: its rows repeated past 12,000.
    let text = std::fs::read_to_string(data.join("leaks/app_reshaped.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let body: Vec<&str> = lines.collect();
    let mut leak = format!("{header}\n");
    let mut total = 0u64;
    while total < 12_000 {
        for l in &body {
            leak.push_str(l);
            leak.push('\n');
            total += 1;
        }
    }
    let path = tmp.join("long.csv");
    std::fs::write(&path, leak).unwrap();
    // Raised before the start: nothing is linked.
    let stop = Arc::new(AtomicBool::new(true));
    let opts = AnalyzeOptions {
        stop: Some(stop.clone()),
        ..AnalyzeOptions::default()
    };
    let seen = AtomicU64::new(0);
    let err = analyze(&index, &path, &opts, &|n| seen.store(n, Ordering::Relaxed)).unwrap_err();
    assert!(
        matches!(err, leaktrace_analyze::AnalyzeError::Stopped),
        "{err}"
    );
    // Raised by the first progress report (after the sample): the next batch is not linked.
    stop.store(false, Ordering::Relaxed);
    let err = analyze(&index, &path, &opts, &|n| {
        seen.store(n, Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
    })
    .unwrap_err();
    assert!(
        matches!(err, leaktrace_analyze::AnalyzeError::Stopped),
        "{err}"
    );
    let linked = seen.load(Ordering::Relaxed);
    assert!(linked > 0 && linked < total, "{linked} of {total} rows");
    // Left down, the same analysis reads every row.
    stop.store(false, Ordering::Relaxed);
    let (a, _) = analyze(&index, &path, &opts, &|n| seen.store(n, Ordering::Relaxed)).unwrap();
    assert_eq!((a.file.rows, seen.load(Ordering::Relaxed)), (total, total));
}
