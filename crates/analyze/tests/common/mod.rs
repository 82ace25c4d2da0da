//! Helpers shared by the integration tests: a synthetic population enrolled in a workspace.

#![allow(dead_code)]

use std::path::Path;

use leaktrace_index::{EnrollOptions, Workspace};
use leaktrace_synth::{generate, read_manifest, Config};

/// Generate a synthetic population under `data` and enrol its registry and every extract.
pub fn workspace(data: &Path, home: &Path, key: &Path, seed: u64, persons: u64) -> Workspace {
    workspace_with(data, home, key, seed, persons, |_| {})
}

/// [`workspace`], with `edit` applied to the generated files (e.g. the registry) before
/// enrolment.
pub fn workspace_with(
    data: &Path,
    home: &Path,
    key: &Path,
    seed: u64,
    persons: u64,
    edit: impl FnOnce(&Path),
) -> Workspace {
    generate(
        &Config {
            persons,
            seed,
            ..Config::default()
        },
        data,
    )
    .unwrap();
    edit(data);
    let (mut ws, _) = Workspace::init(home, Some(key)).unwrap();
    let m = read_manifest(data).unwrap();
    let mut all = vec![(m.registry.clone(), None)];
    all.extend(
        m.extracts
            .iter()
            .map(|e| (e.clone(), Some(e.recipient.clone()))),
    );
    for (e, recipient) in all {
        let source = if recipient.is_none() {
            "registry".to_string()
        } else {
            e.source().to_string()
        };
        ws.enroll(
            &data.join(&e.file),
            &EnrollOptions {
                source,
                recipient,
                as_of: Some(e.as_of.clone()),
                ..EnrollOptions::default()
            },
            &|_| {},
        )
        .unwrap();
    }
    ws
}
