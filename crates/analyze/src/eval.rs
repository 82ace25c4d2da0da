//! Scoring links against a ground truth (`row,person_id` CSV, empty id = not ours).

use std::collections::HashMap;
use std::path::Path;

use leaktrace_link::dump::RowLink;
use serde::Serialize;

use crate::AnalyzeError;

/// Precision, recall and F1 of row → person links.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Read a truth file: row → person id (None for rows that are not ours).
pub fn read_truth(path: &Path) -> Result<HashMap<u64, Option<String>>, AnalyzeError> {
    let mut r = csv::Reader::from_path(path)
        .map_err(|e| AnalyzeError::Input(format!("{}: {e}", path.display())))?;
    let mut out = HashMap::new();
    for (i, rec) in r.records().enumerate() {
        let rec =
            rec.map_err(|e| AnalyzeError::Input(format!("{}: record {i}: {e}", path.display())))?;
        let row: u64 = rec.get(0).and_then(|s| s.parse().ok()).ok_or_else(|| {
            AnalyzeError::Input(format!("{}: record {i}: bad row number", path.display()))
        })?;
        let id = rec.get(1).unwrap_or("").trim();
        out.insert(row, (!id.is_empty()).then(|| id.to_string()));
    }
    Ok(out)
}

/// Score links against the truth.
pub fn score(links: &[RowLink], truth: &HashMap<u64, Option<String>>) -> Score {
    let (mut tp, mut fp, mut fnn) = (0u64, 0u64, 0u64);
    for l in links {
        let want = truth.get(&l.row).cloned().flatten();
        match (&l.person_id, &want) {
            (Some(p), Some(w)) if p == w => tp += 1,
            (Some(_), Some(_)) => {
                fp += 1;
                fnn += 1;
            }
            (Some(_), None) => fp += 1,
            (None, Some(_)) => fnn += 1,
            (None, None) => {}
        }
    }
    let precision = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let recall = if tp + fnn == 0 {
        1.0
    } else {
        tp as f64 / (tp + fnn) as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Score {
        true_positives: tp,
        false_positives: fp,
        false_negatives: fnn,
        precision,
        recall,
        f1,
    }
}
