//! Small helpers with no better home: timestamps, the current user, process memory.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as ISO 8601 UTC, e.g. `2026-11-25T17:46:47Z`.
pub fn now_iso() -> String {
    iso_from_system_time(SystemTime::now())
}

pub fn iso_from_system_time(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    iso_from_unix(secs)
}

pub fn iso_from_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem / 60) % 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Turns an EXIF date (`2012:03:04 10:11:12`) into ISO 8601 (`2012-03-04T10:11:12`),
/// appending the EXIF offset (`+09:00`) when there is one. None for zeroed or malformed dates.
pub fn iso_from_exif(datetime: &str, offset: Option<&str>) -> Option<String> {
    let s = datetime.trim().trim_end_matches('\0');
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && digits(5..7) && digits(8..10) && digits(11..13) && digits(14..16) && digits(17..19)) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if y < 1900 || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}");
    if let Some(off) = offset.map(|o| o.trim().trim_end_matches('\0')) {
        let ob = off.as_bytes();
        if ob.len() == 6 && (ob[0] == b'+' || ob[0] == b'-') && ob[3] == b':' {
            out.push_str(off);
        }
    }
    Some(out)
}

/// Who is at the keyboard, for the audit log.
pub fn current_user() -> String {
    std::env::var("DERMDESK_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Peak resident set size of this process in bytes (Linux; None elsewhere).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// CPU time (user + system) this process has used so far, all threads; None where unknown.
/// Benchmarks report it beside wall time: on a shared machine the wall clock measures the
/// neighbours too.
#[allow(unsafe_code)]
pub fn cpu_seconds() -> Option<f64> {
    #[cfg(unix)]
    {
        // SAFETY: getrusage only writes the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
            return None;
        }
        let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
        Some(t(u.ru_utime) + t(u.ru_stime))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The largest peak resident set size among this process's finished children (worker
/// processes), in bytes (Linux; None elsewhere).
#[allow(unsafe_code)]
pub fn children_peak_rss_bytes() -> Option<u64> {
    #[cfg(unix)]
    {
        // SAFETY: getrusage only writes the struct it is given.
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) } != 0 {
            return None;
        }
        Some(u.ru_maxrss as u64 * 1024)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Modification time in nanoseconds since the epoch (0 when the platform cannot say).
pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_to_iso() {
        assert_eq!(iso_from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_from_unix(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso_from_unix(1_795_628_807), "2026-11-25T17:46:47Z");
    }

    #[test]
    fn exif_dates() {
        assert_eq!(iso_from_exif("2012:03:04 10:11:12", None).as_deref(), Some("2012-03-04T10:11:12"));
        assert_eq!(iso_from_exif("2012:03:04 10:11:12", Some("+09:00")).as_deref(), Some("2012-03-04T10:11:12+09:00"));
        assert_eq!(iso_from_exif("0000:00:00 00:00:00", None), None);
        assert_eq!(iso_from_exif("    :  :     :  :  ", None), None);
        assert_eq!(iso_from_exif("2012:13:04 10:11:12", None), None);
    }
}
