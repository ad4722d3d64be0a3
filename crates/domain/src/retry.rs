//! Retry timing for transient delivery failures: exponential backoff with jitter.

use jiff::SignedDuration;

/// Backoff settings.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Delay before the second attempt.
    pub base: SignedDuration,
    /// Longest delay between attempts.
    pub cap: SignedDuration,
    /// How long after the due time a message may still be retried.
    pub deadline: SignedDuration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: SignedDuration::from_secs(30),
            cap: SignedDuration::from_secs(3600),
            deadline: SignedDuration::from_hours(24),
        }
    }
}

impl Backoff {
    /// Delay after failed attempt number `attempt` (1-based). `jitter` in [0, 1) spreads the
    /// delay over ±25 % so that many failures do not retry in lock-step.
    pub fn delay(&self, attempt: u32, jitter: f64) -> SignedDuration {
        let exponent = attempt.saturating_sub(1).min(30);
        let raw = self.base.as_secs_f64() * f64::from(1u32 << exponent.min(20));
        let capped = raw.min(self.cap.as_secs_f64());
        let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
        SignedDuration::from_secs_f64((capped * factor).max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_the_jitter_band_and_stop_at_the_cap() {
        let b = Backoff::default();
        for attempt in 1..40 {
            for jitter in [0.0, 0.5, 0.999] {
                let d = b.delay(attempt, jitter).as_secs_f64();
                let nominal = (30.0 * 2f64.powi(attempt as i32 - 1)).min(3600.0);
                assert!(
                    d >= nominal * 0.75 - 1e-6 && d <= nominal * 1.25 + 1e-6,
                    "{attempt} {d}"
                );
            }
        }
    }
}
