//! The few runtime services that differ between the Worker (JS event loop) and native code:
//! time, sleeping, timeouts and randomness.

use std::future::Future;
use std::time::Duration;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as u64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A uniform random number in [0, 1), for retry jitter (not for secrets).
pub fn random() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Math::random()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(now_ms());
        (h.finish() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub async fn sleep(d: Duration) {
    #[cfg(target_arch = "wasm32")]
    {
        worker::Delay::from(d).await
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        tokio::time::sleep(d).await
    }
}

/// Runs `fut` for at most `d`; `None` when time ran out.
pub async fn timeout<F: Future>(d: Duration, fut: F) -> Option<F::Output> {
    use futures::future::{select, Either};
    let fut = std::pin::pin!(fut);
    let timer = std::pin::pin!(sleep(d));
    match select(fut, timer).await {
        Either::Left((v, _)) => Some(v),
        Either::Right(_) => None,
    }
}

/// RFC 3339 UTC timestamp (`2025-01-31T12:00:00.000Z`) for a Unix time in milliseconds.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil-from-days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_738_324_800_123), "2025-01-31T12:00:00.123Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn random_in_range() {
        for _ in 0..100 {
            let r = random();
            assert!((0.0..1.0).contains(&r));
        }
    }
}
