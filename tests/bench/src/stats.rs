//! Latency summaries (nearest-rank percentiles).

use std::time::Duration;

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Nearest-rank percentile of sorted samples: the smallest value with at least `q` of them at or below it.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

pub fn summarize(mut samples: Vec<Duration>) -> Summary {
    samples.sort_unstable();
    let count = samples.len();
    if count == 0 {
        return Summary::default();
    }
    let total: Duration = samples.iter().sum();
    Summary {
        count,
        p50_ms: ms(percentile(&samples, 0.50)),
        p99_ms: ms(percentile(&samples, 0.99)),
        max_ms: ms(samples[count - 1]),
        mean_ms: ms(total / count as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let s = summarize(v);
        assert_eq!(
            (s.count, s.p50_ms, s.p99_ms, s.max_ms),
            (100, 50.0, 99.0, 100.0)
        );
        assert_eq!(s.mean_ms, 50.5);
        let s = summarize(vec![Duration::from_millis(7)]);
        assert_eq!((s.p50_ms, s.p99_ms), (7.0, 7.0));
        assert_eq!(summarize(Vec::new()).count, 0);
    }
}
