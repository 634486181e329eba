//! Side-by-side Markdown table of several runs (one JSON line each, as xmpp-bench writes them).

use serde_json::Value;

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_f64()
}

fn fmt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".to_owned(), |x| format!("{x:.decimals$}"))
}

/// One row: a label and how to read the cell from a run.
type Row = (&'static str, fn(&Value) -> String);

const ROWS: &[Row] = &[
    ("Logins/s (cached SCRAM keys)", |v| {
        fmt(num(v, &["login", "logins_per_sec"]), 1)
    }),
    ("Login latency p50 (ms)", |v| {
        fmt(num(v, &["login", "latency", "p50_ms"]), 2)
    }),
    ("Login latency p99 (ms)", |v| {
        fmt(num(v, &["login", "latency", "p99_ms"]), 2)
    }),
    ("Failed logins (measured round)", |v| {
        fmt(num(v, &["login", "failed"]), 0)
    }),
    ("Server CPU per login (ms, measured round)", |v| {
        fmt(num(v, &["login", "server_cpu_ms_per_login"]), 3)
    }),
    ("Client CPU in measured round (s)", |v| {
        fmt(num(v, &["login", "client_cpu_s"]), 2)
    }),
    ("Warm-up logins/s (client PBKDF2 included)", |v| {
        fmt(num(v, &["warmup", "logins_per_sec"]), 1)
    }),
    ("Memory per idle session (KiB)", |v| {
        fmt(num(v, &["memory", "per_session_kib"]), 1)
    }),
    ("Server VmRSS before -> after (MiB)", |v| {
        match (
            num(v, &["memory", "rss_before_kib"]),
            num(v, &["memory", "rss_after_kib"]),
        ) {
            (Some(b), Some(a)) => format!("{:.1} -> {:.1}", b / 1024.0, a / 1024.0),
            _ => "n/a".into(),
        }
    }),
    ("Sessions held (alive at end / logged in)", |v| {
        match (
            num(v, &["held", "alive_at_end"]),
            num(v, &["held", "logged_in"]),
        ) {
            (Some(a), Some(l)) => format!("{a:.0} / {l:.0}"),
            _ => "n/a".into(),
        }
    }),
    ("Fan-out subscribers", |v| {
        fmt(num(v, &["fanout", "subscribed"]), 0)
    }),
    ("Fan-out received / expected", |v| {
        match (
            num(v, &["fanout", "received"]),
            num(v, &["fanout", "expected"]),
        ) {
            (Some(r), Some(e)) => format!("{r:.0} / {e:.0}"),
            _ => "n/a".into(),
        }
    }),
    ("Fan-out latency p50 (ms)", |v| {
        fmt(num(v, &["fanout", "latency", "p50_ms"]), 2)
    }),
    ("Fan-out latency p99 (ms)", |v| {
        fmt(num(v, &["fanout", "latency", "p99_ms"]), 2)
    }),
];

/// The Markdown table for `jsonl` (runs in file order), with notes for errors.
pub fn table(jsonl: &str) -> String {
    let runs: Vec<Value> = jsonl
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut out = String::from("| Metric |");
    for r in &runs {
        out.push_str(&format!(
            " {} |",
            r.get("label").and_then(Value::as_str).unwrap_or("?")
        ));
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(runs.len()));
    out.push('\n');
    for (name, cell) in ROWS {
        out.push_str(&format!("| {name} |"));
        for r in &runs {
            out.push_str(&format!(" {} |", cell(r)));
        }
        out.push('\n');
    }
    for r in &runs {
        let label = r.get("label").and_then(Value::as_str).unwrap_or("?");
        for phase in ["warmup", "login", "fanout"] {
            let err = r
                .get(phase)
                .and_then(|p| p.get("first_error").or_else(|| p.get("error")));
            if let Some(e) = err.and_then(Value::as_str) {
                out.push_str(&format!("\n- {label}, {phase}: {e}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side() {
        let jsonl = r#"{"label":"a","login":{"logins_per_sec":100.0,"failed":0,"latency":{"p50_ms":1.5,"p99_ms":9.0}},"memory":{"per_session_kib":44.0,"rss_before_kib":1024,"rss_after_kib":2048},"held":{"alive_at_end":10,"logged_in":10}}
{"label":"b","fanout":{"subscribed":5,"received":9,"expected":10,"latency":{"p50_ms":3.0,"p99_ms":4.0},"error":"boom"}}
not json"#;
        let t = table(jsonl);
        assert!(
            t.starts_with("| Metric | a | b |\n|---|---:|---:|\n"),
            "{t}"
        );
        assert!(t.contains("| Logins/s (cached SCRAM keys) | 100.0 | n/a |"));
        assert!(t.contains("| Server VmRSS before -> after (MiB) | 1.0 -> 2.0 | n/a |"));
        assert!(t.contains("| Sessions held (alive at end / logged in) | 10 / 10 | n/a |"));
        assert!(t.contains("| Fan-out received / expected | n/a | 9 / 10 |"));
        assert!(t.contains("- b, fanout: boom"));
    }
}
