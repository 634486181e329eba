//! Readings from /proc: the server's resident memory and our own open-file limit.

/// `VmRSS` of `pid` in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_kib(&status, "VmRSS:")
}

fn parse_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Soft limit on open files of this process (`None` for "unlimited" or unreadable).
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time (user + system) used so far by `pid` (all its threads), in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    parse_stat_cpu(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `utime` and `stime` are fields 14 and 15 of /proc/PID/stat, in USER_HZ ticks, which the Linux
/// ABI fixes at 100 per second. The command name (field 2) may hold spaces, so count from its `)`.
fn parse_stat_cpu(stat: &str) -> Option<f64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status() {
        let s = "Name:\tprosody\nVmPeak:\t  9000 kB\nVmRSS:\t   45312 kB\nThreads: 1\n";
        assert_eq!(parse_kib(s, "VmRSS:"), Some(45312));
        assert_eq!(parse_kib(s, "VmSwap:"), None);
        assert!(rss_kib(std::process::id()).is_some());
        assert!(open_files_limit().is_some());
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 5 1000 10";
        assert_eq!(parse_stat_cpu(stat), Some(3.0));
        assert!(cpu_seconds(std::process::id()).is_some());
    }
}
