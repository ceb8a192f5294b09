//! Swarm space: where an account lives on the 64-bit ring of swarm ids.
//!
//! The network computes a position for every account from its 32-byte public key (without the
//! one-byte `05`/`03` prefix) and stores the account's messages in the swarm whose id is nearest
//! to that position on the ring `0..2^64`, measuring distance with wrapping arithmetic.

use alloc::vec::Vec;

/// The swarm id oxend gives to service nodes that are not in any swarm (`u64::MAX`).
pub const INVALID_SWARM_ID: u64 = u64::MAX;

/// An account's position in swarm space: the XOR of the key's four 8-byte words, each read
/// big-endian.
///
/// ```
/// use metaless_swarm::swarm_space;
/// let mut key = [0u8; 32];
/// key[24..].copy_from_slice(&0x0123_4567_89ab_cdef_u64.to_be_bytes());
/// assert_eq!(swarm_space(&key), 0x0123_4567_89ab_cdef);
/// assert_eq!(swarm_space(&[0xee; 32]), 0); // four equal words cancel out
/// ```
pub fn swarm_space(key: &[u8; 32]) -> u64 {
    let mut position = 0u64;
    for word in key.chunks_exact(8) {
        let mut be = [0u8; 8];
        be.copy_from_slice(word);
        position ^= u64::from_be_bytes(be);
    }
    position
}

/// A set of swarm ids, kept sorted and free of duplicates so that nearest-swarm lookups are a
/// binary search.
///
/// ```
/// use metaless_swarm::SwarmIds;
/// let ids = SwarmIds::new([300, 100, 200, 100]);
/// assert_eq!(ids.as_slice(), &[100, 200, 300]);
/// assert_eq!(ids.nearest(149), Some(100));
/// assert_eq!(ids.nearest(150), Some(100)); // a tie goes to the lower ("left") swarm
/// assert_eq!(ids.nearest(151), Some(200));
/// assert_eq!(SwarmIds::new([]).nearest(5), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SwarmIds(Vec<u64>);

impl SwarmIds {
    /// Collects, sorts and deduplicates swarm ids.
    pub fn new(ids: impl IntoIterator<Item = u64>) -> Self {
        let mut ids: Vec<u64> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        Self(ids)
    }

    /// The ids in ascending order.
    pub fn as_slice(&self) -> &[u64] {
        &self.0
    }

    /// How many swarms there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no swarms at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `id` is one of the swarms.
    ///
    /// ```
    /// let ids = metaless_swarm::SwarmIds::new([7, 9]);
    /// assert!(ids.contains(9) && !ids.contains(8));
    /// ```
    pub fn contains(&self, id: u64) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// The swarm that owns swarm-space `position`, as the storage server and libsession choose
    /// it: `right` is the first id ≥ `position` (wrapping to the smallest id), `left` the id
    /// before it (wrapping to the largest); `right` wins only when strictly closer. With one
    /// swarm that swarm is chosen; with none, `None`.
    ///
    /// ```
    /// use metaless_swarm::SwarmIds;
    /// let ids = SwarmIds::new([100, 200, u64::MAX - 19]);
    /// // 40 is exactly between 2^64-20 and 100 across the wrap: the tie goes to the left one.
    /// assert_eq!(ids.nearest(40), Some(u64::MAX - 19));
    /// assert_eq!(ids.nearest(41), Some(100));
    /// assert_eq!(SwarmIds::new([5]).nearest(u64::MAX), Some(5));
    /// ```
    pub fn nearest(&self, position: u64) -> Option<u64> {
        let ids = self.0.as_slice();
        let (first, last) = (*ids.first()?, *ids.last()?);
        if ids.len() == 1 {
            return Some(first);
        }
        let right_index = ids.partition_point(|&id| id < position);
        // Past the largest id the position sits in the gap that wraps to the smallest one.
        let (right, left) = match right_index {
            0 => (first, last),
            i if i == ids.len() => (first, last),
            i => (ids.get(i).copied()?, ids.get(i - 1).copied()?),
        };
        let to_right = right.wrapping_sub(position);
        let to_left = position.wrapping_sub(left);
        Some(if to_right < to_left { right } else { left })
    }

    /// The swarm for an account's 32-byte public key (prefix removed).
    ///
    /// ```
    /// use metaless_swarm::SwarmIds;
    /// let mut key = [0u8; 32];
    /// key[31] = 0xc8; // swarm space 200
    /// assert_eq!(SwarmIds::new([100, 200, 300]).swarm_for(&key), Some(200));
    /// ```
    pub fn swarm_for(&self, key: &[u8; 32]) -> Option<u64> {
        self.nearest(swarm_space(key))
    }
}

impl FromIterator<u64> for SwarmIds {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        Self::new(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Distance on the ring, the shorter way round.
    fn ring_distance(a: u64, b: u64) -> u64 {
        a.wrapping_sub(b).min(b.wrapping_sub(a))
    }

    #[test]
    fn empty_single_and_exact() {
        assert_eq!(SwarmIds::new([]).nearest(0), None);
        for pos in [0, 1, u64::MAX / 2, u64::MAX] {
            assert_eq!(SwarmIds::new([42]).nearest(pos), Some(42));
        }
        let ids = SwarmIds::new([0, 10, u64::MAX]);
        assert_eq!(ids.nearest(0), Some(0));
        assert_eq!(ids.nearest(10), Some(10));
        assert_eq!(ids.nearest(u64::MAX), Some(u64::MAX));
    }

    #[test]
    fn min_and_max_positions_wrap() {
        let ids = SwarmIds::new([1000, 2000]);
        // 0 is 1000 away from 1000 and 2^64 - 2000 away from 2000 (the long way), so 1000 wins.
        assert_eq!(ids.nearest(0), Some(1000));
        assert_eq!(ids.nearest(u64::MAX), Some(1000));
        let ids = SwarmIds::new([0, u64::MAX - 1]);
        assert_eq!(ids.nearest(u64::MAX), Some(u64::MAX - 1));
        // Exactly between u64::MAX-1 and 0 across the wrap: the tie is taken by the left (larger).
        let ids = SwarmIds::new([0, u64::MAX - 1]);
        assert_eq!(ids.nearest(u64::MAX), Some(u64::MAX - 1));
    }

    #[test]
    fn two_swarms_half_way_round() {
        // Two swarms opposite each other: the far side's tie also goes to the left swarm.
        let ids = SwarmIds::new([0, 1 << 63]);
        assert_eq!(ids.nearest(1 << 62), Some(0));
        assert_eq!(ids.nearest((1 << 62) + 1), Some(1 << 63));
        assert_eq!(ids.nearest(3 << 62), Some(1 << 63));
        assert_eq!(ids.nearest((3 << 62) + 1), Some(0));
    }

    proptest! {
        #[test]
        fn chosen_swarm_is_a_member_and_nearest(
            ids in proptest::collection::vec(any::<u64>(), 1..40),
            pos in any::<u64>(),
        ) {
            let set = SwarmIds::new(ids.iter().copied());
            let chosen = set.nearest(pos).unwrap();
            prop_assert!(set.contains(chosen));
            let best = set.as_slice().iter().map(|&id| ring_distance(id, pos)).min().unwrap();
            prop_assert_eq!(ring_distance(chosen, pos), best);
            // Order and duplicates of the input do not matter.
            let mut shuffled = ids.clone();
            shuffled.reverse();
            shuffled.extend_from_slice(&ids);
            prop_assert_eq!(SwarmIds::new(shuffled).nearest(pos), Some(chosen));
        }

        #[test]
        fn space_is_xor_of_big_endian_words(key in any::<[u8; 32]>()) {
            let mut expected = 0u64;
            for i in 0..4 {
                let mut w = 0u64;
                for b in &key[i * 8..i * 8 + 8] {
                    w = (w << 8) | u64::from(*b);
                }
                expected ^= w;
            }
            prop_assert_eq!(swarm_space(&key), expected);
        }
    }
}
