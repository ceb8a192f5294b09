//! The network clock as the client estimates it: every JSON reply's `t` (or `info`'s
//! `timestamp`) is a sample `t − (sent + received) / 2`, and the offset is the median of the
//! last few samples, so one node with a wrong clock does not move it.

use std::collections::VecDeque;

use metaless_swarm::NetworkClock;

use crate::limits;

/// Network time minus local time, from the last [`limits::CLOCK_SAMPLES`] samples.
#[derive(Debug, Default)]
pub(super) struct ClockEstimate {
    samples: VecDeque<i64>,
    offset: i64,
}

impl ClockEstimate {
    /// A node said its clock read `network_ms` at local time `local_ms`.
    pub(super) fn sample(&mut self, network_ms: u64, local_ms: u64) {
        if self.samples.len() >= limits::CLOCK_SAMPLES {
            self.samples.pop_front();
        }
        self.samples
            .push_back(NetworkClock::from_observation(network_ms, local_ms).offset_ms());
        let mut sorted: Vec<i64> = self.samples.iter().copied().collect();
        sorted.sort_unstable();
        self.offset = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    }

    /// Network time at local time `local_ms`.
    pub(super) fn now(&self, local_ms: u64) -> u64 {
        NetworkClock::with_offset(self.offset).now_ms(local_ms)
    }

    /// The current offset (network − local, ms).
    pub(super) fn offset(&self) -> i64 {
        self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_skewed_node_does_not_move_the_median() {
        let mut clock = ClockEstimate::default();
        clock.sample(1_500, 1_000);
        clock.sample(2_500, 2_000);
        clock.sample(1_000_000, 3_000);
        assert_eq!(clock.offset(), 500);
        assert_eq!(clock.now(10_000), 10_500);
    }

    #[test]
    fn only_the_last_samples_count() {
        let mut clock = ClockEstimate::default();
        for i in 0..limits::CLOCK_SAMPLES as u64 {
            clock.sample(i * 1_000, i * 1_000 + 9_000);
        }
        assert_eq!(clock.offset(), -9_000);
        for i in 0..limits::CLOCK_SAMPLES as u64 {
            clock.sample(i * 1_000 + 4_000, i * 1_000);
        }
        assert_eq!(clock.offset(), 4_000);
    }
}
