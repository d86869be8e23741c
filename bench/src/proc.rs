//! What the server process cost, read from Linux's /proc: CPU time (all threads) and peak RSS.

use std::fs;

/// Clock ticks per second, the unit of utime/stime in /proc/PID/stat.
pub struct Ticks {
    pub per_sec: u64,
    /// True when sysconf did not answer and 100 (the Linux default) was assumed.
    pub assumed: bool,
}

pub fn clock_ticks() -> Ticks {
    // SAFETY: sysconf only reads a constant of the running system.
    let n = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    match u64::try_from(n) {
        Ok(n) if n > 0 => Ticks {
            per_sec: n,
            assumed: false,
        },
        _ => Ticks {
            per_sec: 100,
            assumed: true,
        },
    }
}

/// utime + stime of every thread of `pid`, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/stat");
    let stat = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    // The command name (field 2) is in parentheses and may hold spaces or ')': the fields are
    // counted from the last ')'. utime and stime are fields 14 and 15, i.e. the 12th and 13th
    // after it.
    let rest = stat
        .rfind(')')
        .map(|i| &stat[i + 1..])
        .ok_or_else(|| format!("{path}: unexpected format"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Result<u64, String> {
        fields
            .get(n)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("{path}: no field {}", n + 3))
    };
    Ok(field(11)? + field(12)?)
}

/// Resets `pid`'s VmHWM to its current RSS (Linux ≥ 4.0: "5" to /proc/PID/clear_refs), so the
/// next [`peak_rss_kib`] is the peak of this run rather than of the server's whole life. Needs the
/// right to ptrace the process (same user, or root).
pub fn reset_peak_rss(pid: u32) -> Result<(), String> {
    let path = format!("/proc/{pid}/clear_refs");
    fs::write(&path, "5").map_err(|e| format!("{path}: {e}"))
}

/// Peak resident set size (VmHWM) of `pid`, in KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{path}: no VmHWM line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_process() {
        let me = std::process::id();
        // Burn a little CPU so the counter is not trivially zero everywhere.
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_ticks(me).is_ok());
        assert!(peak_rss_kib(me).unwrap() > 0);
        // Not asserted: a sandbox may refuse clear_refs (the report then says so).
        let _ = reset_peak_rss(me);
        assert!(clock_ticks().per_sec > 0);
    }
}
