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
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
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
    }
}
