//! Where the trials came from, summarised while the dataset is read: every key of the trials'
//! provenance JSON (and their energy sources) with its three smallest distinct values and the
//! number of distinct values. The build folds each trial into this summary and then drops the
//! trial's JSON, so the model does not keep a kilobyte of provenance per trial.

use dataset::Trial;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// Keys of the provenance JSON that are per-trial bookkeeping, not provenance worth listing.
const SKIPPED_KEYS: [&str; 3] = ["files", "run_table", "energibridge_summary"];

/// Values shown per key.
const SHOWN: usize = 3;

/// The distinct values of one key: the smallest few, and how many there are (counted by
/// 64-bit hash: two distinct values of one key colliding is a 1-in-10^10 event at 100,000
/// trials, and would only make the count one short).
#[derive(Debug, Clone, Default, PartialEq)]
struct Distinct {
    smallest: BTreeSet<String>,
    seen: HashSet<u64>,
}

impl Distinct {
    fn add(&mut self, value: String) {
        if !self.seen.insert(xxhash_rust::xxh3::xxh3_64(value.as_bytes())) {
            return;
        }
        let larger_than_all =
            self.smallest.len() >= SHOWN && self.smallest.last().is_some_and(|l| value >= *l);
        if !larger_than_all {
            self.smallest.insert(value);
            if self.smallest.len() > SHOWN {
                self.smallest.pop_last();
            }
        }
    }

    fn merge(&mut self, other: Distinct) {
        self.seen.extend(other.seen);
        self.smallest.extend(other.smallest);
        while self.smallest.len() > SHOWN {
            self.smallest.pop_last();
        }
    }
}

/// The provenance of a set of trials, key by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    keys: BTreeMap<String, Distinct>,
}

impl Provenance {
    /// Folds one trial in: its provenance JSON, flattened to dotted keys (arrays counted, the
    /// per-trial bookkeeping keys left out), and its energy sources.
    pub fn add(&mut self, t: &Trial) {
        let json: serde_json::Value = serde_json::from_str(&t.provenance).unwrap_or_default();
        self.add_parsed(&json, t.energy_sources.as_deref());
    }

    /// [`Provenance::add`] of a trial whose provenance JSON is already parsed.
    pub fn add_parsed(&mut self, json: &serde_json::Value, energy_sources: Option<&str>) {
        let mut flat = Vec::new();
        flatten("", json, &mut flat);
        for (k, v) in flat {
            self.keys.entry(k).or_default().add(v);
        }
        if let Some(src) = energy_sources {
            self.keys
                .entry("energy sources".into())
                .or_default()
                .add(src.to_string());
        }
    }

    /// Adds another summary (of other trials).
    pub fn merge(&mut self, other: Provenance) {
        for (k, d) in other.keys {
            self.keys.entry(k).or_default().merge(d);
        }
    }

    /// The smallest value of a top-level or dotted key (`source_dir`), if any trial has it.
    pub fn first_value(&self, key: &str) -> Option<&str> {
        self.keys.get(key)?.smallest.first().map(String::as_str)
    }

    /// Every key with its values as shown: the smallest three joined by `; `, then `(and N
    /// more)` when there are more.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.keys
            .iter()
            .map(|(k, d)| {
                let shown: Vec<&str> = d.smallest.iter().map(String::as_str).collect();
                let more = if d.seen.len() > shown.len() {
                    format!(" (and {} more)", d.seen.len() - shown.len())
                } else {
                    String::new()
                };
                (k.clone(), format!("{}{more}", shown.join("; ")))
            })
            .collect()
    }
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if prefix.is_empty() && SKIPPED_KEYS.contains(&k.as_str()) {
                    continue;
                }
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::Array(items) => out.push((prefix.to_string(), format!("{} entries", items.len()))),
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        serde_json::Value::Null => {}
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(json: serde_json::Value, sources: Option<&str>) -> Trial {
        Trial {
            provenance: json.to_string(),
            energy_sources: sources.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn keeps_the_three_smallest_values_and_counts_the_rest_in_any_order() {
        let trials: Vec<Trial> = ["e", "b", "d", "a", "c", "b"]
            .iter()
            .map(|v| {
                trial(
                    serde_json::json!({"tool": "collect", "host": {"name": v}, "files": [1]}),
                    Some("nvml"),
                )
            })
            .collect();
        let mut whole = Provenance::default();
        trials.iter().for_each(|t| whole.add(t));
        // The same trials folded in two halves, merged in the other order.
        let (mut first, mut second) = (Provenance::default(), Provenance::default());
        trials[..2].iter().for_each(|t| first.add(t));
        trials[2..].iter().for_each(|t| second.add(t));
        second.merge(first);
        let expected = vec![
            ("energy sources".to_string(), "nvml".to_string()),
            ("host.name".to_string(), "a; b; c (and 2 more)".to_string()),
            ("tool".to_string(), "collect".to_string()),
        ];
        assert_eq!(whole.entries(), expected);
        assert_eq!(second.entries(), expected);
    }
}
