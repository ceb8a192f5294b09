//! The network clock: signed requests must carry timestamps within ±60 s of the node's clock,
//! so clients track the offset between their clock and the network's (`t` in every reply,
//! `timestamp` from `info`).

/// The offset between the local clock and the network's, in milliseconds.
///
/// ```
/// use metaless_swarm::NetworkClock;
/// // The node said t = 1_000_500 when our clock read 1_000_000: we are 500 ms behind.
/// let clock = NetworkClock::from_observation(1_000_500, 1_000_000);
/// assert_eq!(clock.offset_ms(), 500);
/// assert_eq!(clock.now_ms(2_000_000), 2_000_500);
/// assert_eq!(NetworkClock::default().now_ms(7), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetworkClock {
    offset_ms: i64,
}

impl NetworkClock {
    /// A clock with a known offset (network time minus local time).
    pub fn with_offset(offset_ms: i64) -> Self {
        Self { offset_ms }
    }

    /// The offset implied by a node reporting `network_ms` when the local clock read
    /// `local_ms`.
    pub fn from_observation(network_ms: u64, local_ms: u64) -> Self {
        let diff = i128::from(network_ms) - i128::from(local_ms);
        Self {
            offset_ms: i64::try_from(diff).unwrap_or(if diff < 0 { i64::MIN } else { i64::MAX }),
        }
    }

    /// Network time minus local time.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms
    }

    /// Network time at local time `local_ms` (saturating at the ends of `u64`).
    pub fn now_ms(&self, local_ms: u64) -> u64 {
        if self.offset_ms >= 0 {
            local_ms.saturating_add(self.offset_ms.unsigned_abs())
        } else {
            local_ms.saturating_sub(self.offset_ms.unsigned_abs())
        }
    }
}
