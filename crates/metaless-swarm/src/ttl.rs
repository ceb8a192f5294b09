//! TTL and expiry rules, as pure functions of the time (`now_ms`, milliseconds since the Unix
//! epoch).
//!
//! Server limits come from the storage server (`oxenss/common/ttl.h`, `request_handler.h`);
//! the per-namespace defaults are the ones Session clients use (session-desktop
//! `ts/session/constants.ts` `TTL_DEFAULT`).

use crate::sig::ExpireMode;
use crate::{Namespace, SwarmError};

const SECOND: u64 = 1_000;
const DAY: u64 = 24 * 60 * 60 * SECOND;

/// Shortest TTL a store may have (10 s).
pub const TTL_MINIMUM_MS: u64 = 10 * SECOND;
/// Longest TTL for a new message in a public-inbox namespace (14 days).
pub const TTL_MAXIMUM_MS: u64 = 14 * DAY;
/// Longest TTL in private namespaces, and the cap for any `expire` (30 days).
pub const TTL_MAXIMUM_PRIVATE_MS: u64 = 30 * DAY;
/// How far in the future a store's timestamp, or in the past its expiry, may be (10 s).
pub const STORE_TOLERANCE_MS: u64 = 10 * SECOND;
/// How far a signature timestamp may be from the node's clock (±60 s).
pub const SIGNATURE_TOLERANCE_MS: u64 = 60 * SECOND;
/// The same tolerance for requests forwarded between swarm members (±70 s).
pub const SIGNATURE_TOLERANCE_FORWARDED_MS: u64 = 70 * SECOND;
/// How far in the past an `expire` expiry may be (60 s).
pub const EXPIRE_PAST_TOLERANCE_MS: u64 = 60 * SECOND;

/// Session clients' TTL for content messages (14 days).
pub const TTL_DEFAULT_CONTENT_MS: u64 = 14 * DAY;
/// Session clients' TTL for config messages (30 days).
pub const TTL_DEFAULT_CONFIG_MS: u64 = 30 * DAY;
/// Session clients' TTL for typing indicators (20 s).
pub const TTL_TYPING_MS: u64 = 20 * SECOND;
/// Session clients' TTL for call messages (5 minutes).
pub const TTL_CALL_MS: u64 = 5 * 60 * SECOND;

/// The TTL range a node accepts for a namespace, and the TTL clients use by default.
///
/// ```
/// use metaless_swarm::{Namespace, ttl};
/// let dm = ttl::limits(Namespace::Default);
/// assert_eq!((dm.min_ms, dm.max_ms, dm.default_ms), (10_000, 14 * 86_400_000, 14 * 86_400_000));
/// let cfg = ttl::limits(Namespace::Contacts);
/// assert_eq!((cfg.max_ms, cfg.default_ms), (30 * 86_400_000, 30 * 86_400_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlLimits {
    /// Shortest accepted TTL.
    pub min_ms: u64,
    /// Longest accepted TTL.
    pub max_ms: u64,
    /// What Session clients use when nothing else is asked for.
    pub default_ms: u64,
}

/// The limits for `namespace`: minimum 10 s; maximum 14 days in public inboxes (multiples of
/// 10) and 30 days elsewhere; default 30 days for the config namespaces (2–5, 12–14) and 14
/// days for everything else.
pub fn limits(namespace: Namespace) -> TtlLimits {
    let max_ms = if namespace.is_public_inbox() {
        TTL_MAXIMUM_MS
    } else {
        TTL_MAXIMUM_PRIVATE_MS
    };
    let default_ms = match namespace {
        Namespace::UserProfile
        | Namespace::Contacts
        | Namespace::ConvoInfoVolatile
        | Namespace::UserGroups
        | Namespace::GroupKeys
        | Namespace::GroupInfo
        | Namespace::GroupMembers => TTL_DEFAULT_CONFIG_MS,
        _ => TTL_DEFAULT_CONTENT_MS,
    };
    TtlLimits {
        min_ms: TTL_MINIMUM_MS,
        max_ms,
        default_ms: default_ms.min(max_ms),
    }
}

/// `ttl_ms` forced into the namespace's range.
///
/// ```
/// use metaless_swarm::{Namespace, ttl};
/// assert_eq!(ttl::clamp(Namespace::Default, 1), 10_000);
/// assert_eq!(ttl::clamp(Namespace::Default, u64::MAX), 14 * 86_400_000);
/// assert_eq!(ttl::clamp(Namespace::Default, 60_000), 60_000);
/// ```
pub fn clamp(namespace: Namespace, ttl_ms: u64) -> u64 {
    let l = limits(namespace);
    ttl_ms.clamp(l.min_ms, l.max_ms)
}

/// Checks a TTL the way a node checks a store (`403 Provided expiry/TTL is not valid.`).
///
/// ```
/// use metaless_swarm::{Namespace, SwarmError, ttl};
/// assert!(ttl::check(Namespace::Contacts, 20 * 86_400_000).is_ok());
/// assert!(matches!(ttl::check(Namespace::Default, 20 * 86_400_000), Err(SwarmError::TtlOutOfRange { .. })));
/// assert!(ttl::check(Namespace::Default, -1).is_err());
/// ```
pub fn check(namespace: Namespace, ttl_ms: i64) -> Result<(), SwarmError> {
    let l = limits(namespace);
    match u64::try_from(ttl_ms) {
        Ok(t) if (l.min_ms..=l.max_ms).contains(&t) => Ok(()),
        _ => Err(SwarmError::TtlOutOfRange {
            ttl_ms,
            min_ms: l.min_ms,
            max_ms: l.max_ms,
        }),
    }
}

/// The expiry of a message stored at `timestamp_ms` with `ttl_ms` (saturating).
pub fn expiry(timestamp_ms: u64, ttl_ms: u64) -> u64 {
    timestamp_ms.saturating_add(ttl_ms)
}

/// The TTL a message still has at `now_ms` (0 once expired).
///
/// ```
/// assert_eq!(metaless_swarm::ttl::remaining(1_000, 5_000), 4_000);
/// assert_eq!(metaless_swarm::ttl::remaining(9_000, 5_000), 0);
/// ```
pub fn remaining(now_ms: u64, expiry_ms: u64) -> u64 {
    expiry_ms.saturating_sub(now_ms)
}

/// The expiry a node applies for an `expire` request: refused when more than 60 s in the past
/// (`401 expire: timestamp should be >= current time`), capped at `now + 30 days`.
///
/// ```
/// use metaless_swarm::{SwarmError, ttl};
/// let now = 1_700_000_000_000;
/// assert_eq!(ttl::expire_target(now, now + 5_000), Ok(now + 5_000));
/// assert_eq!(ttl::expire_target(now, u64::MAX), Ok(now + 30 * 86_400_000));
/// assert_eq!(ttl::expire_target(now, now - 61_000), Err(SwarmError::ExpiryInPast));
/// ```
pub fn expire_target(now_ms: u64, requested_ms: u64) -> Result<u64, SwarmError> {
    if requested_ms < now_ms.saturating_sub(EXPIRE_PAST_TOLERANCE_MS) {
        return Err(SwarmError::ExpiryInPast);
    }
    Ok(requested_ms.min(now_ms.saturating_add(TTL_MAXIMUM_PRIVATE_MS)))
}

/// What an `expire` does to one stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireOutcome {
    /// The expiry becomes this value (reported in `updated`).
    Updated(u64),
    /// The expiry stays (reported in `unchanged` when shorten/extend was asked for).
    Unchanged(u64),
}

/// Decides an `expire` for one message whose current expiry is `current_ms`, given the target
/// from [`expire_target`], exactly as the storage server's database update does
/// (`Database::update_expiry`: `extend` adds `AND expiry < target`, `shorten` adds
/// `AND expiry > target`):
/// * [`ExpireMode::Set`]: always updated;
/// * [`ExpireMode::Shorten`]: updated only if `target < current`;
/// * [`ExpireMode::Extend`]: updated only if `target > current`. (The endpoint documentation
///   also describes a "less than 1 % of the lifetime is ignored" rule; no server code applies
///   it, so neither do we.)
///
/// ```
/// use metaless_swarm::sig::ExpireMode;
/// use metaless_swarm::ttl::{ExpireOutcome, expire_decision};
/// assert_eq!(expire_decision(ExpireMode::Shorten, 1_000, 500), ExpireOutcome::Updated(500));
/// assert_eq!(expire_decision(ExpireMode::Shorten, 1_000, 2_000), ExpireOutcome::Unchanged(1_000));
/// assert_eq!(expire_decision(ExpireMode::Extend, 100_000, 100_001), ExpireOutcome::Updated(100_001));
/// assert_eq!(expire_decision(ExpireMode::Extend, 100_000, 100_000), ExpireOutcome::Unchanged(100_000));
/// assert_eq!(expire_decision(ExpireMode::Set, 100_000, 5), ExpireOutcome::Updated(5));
/// ```
pub fn expire_decision(mode: ExpireMode, current_ms: u64, target_ms: u64) -> ExpireOutcome {
    match mode {
        ExpireMode::Set => ExpireOutcome::Updated(target_ms),
        ExpireMode::Shorten if target_ms < current_ms => ExpireOutcome::Updated(target_ms),
        ExpireMode::Extend if target_ms > current_ms => ExpireOutcome::Updated(target_ms),
        _ => ExpireOutcome::Unchanged(current_ms),
    }
}

/// Disappear-after-read: when a message with a disappearing timer of `timer_ms` is read at
/// `read_at_ms`, its new expiry is `read_at + timer`, sent as an `expire` with
/// [`ExpireMode::Shorten`] (session-desktop `expireRequest.ts`), so an expiry that is already
/// earlier is kept. Returns the expiry to request, or `None` when the current expiry is already
/// no later.
///
/// ```
/// use metaless_swarm::ttl::after_read_expiry;
/// assert_eq!(after_read_expiry(1_000, 60_000, 14 * 86_400_000), Some(61_000));
/// assert_eq!(after_read_expiry(1_000, 60_000, 30_000), None);
/// ```
pub fn after_read_expiry(read_at_ms: u64, timer_ms: u64, current_expiry_ms: u64) -> Option<u64> {
    let target = read_at_ms.saturating_add(timer_ms);
    (target < current_expiry_ms).then_some(target)
}

/// Disappear-after-send: the message is stored with the timer as its TTL (clamped to what the
/// namespace allows).
///
/// ```
/// use metaless_swarm::{Namespace, ttl};
/// assert_eq!(ttl::after_send_ttl(Namespace::Default, 5_000), 10_000);
/// assert_eq!(ttl::after_send_ttl(Namespace::Default, 3_600_000), 3_600_000);
/// ```
pub fn after_send_ttl(namespace: Namespace, timer_ms: u64) -> u64 {
    clamp(namespace, timer_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_ns() -> impl Strategy<Value = Namespace> {
        any::<i16>().prop_map(Namespace::from_i16)
    }

    proptest! {
        #[test]
        fn clamp_is_idempotent_and_valid(ns in any_ns(), t in any::<u64>()) {
            let c = clamp(ns, t);
            prop_assert_eq!(clamp(ns, c), c);
            prop_assert!(check(ns, i64::try_from(c).unwrap()).is_ok());
            if check(ns, i64::try_from(t).unwrap_or(i64::MAX)).is_ok() {
                prop_assert_eq!(c, t);
            }
        }

        #[test]
        fn default_is_within_limits(ns in any_ns()) {
            let l = limits(ns);
            prop_assert!(l.min_ms <= l.default_ms && l.default_ms <= l.max_ms);
        }

        #[test]
        fn expire_target_is_capped(now in 0u64..u64::MAX / 2, req in any::<u64>()) {
            if let Ok(t) = expire_target(now, req) {
                prop_assert!(t <= now + TTL_MAXIMUM_PRIVATE_MS);
                prop_assert!(t >= now.saturating_sub(EXPIRE_PAST_TOLERANCE_MS));
            }
        }

        #[test]
        fn shorten_never_extends(cur in any::<u64>(), t in any::<u64>()) {
            // Shorten updates exactly when the target is earlier; extend exactly when later.
            match expire_decision(ExpireMode::Shorten, cur, t) {
                ExpireOutcome::Updated(v) => prop_assert!(v < cur && v == t),
                ExpireOutcome::Unchanged(v) => prop_assert!(v == cur && t >= cur),
            }
            match expire_decision(ExpireMode::Extend, cur, t) {
                ExpireOutcome::Updated(v) => prop_assert!(v > cur && v == t),
                ExpireOutcome::Unchanged(v) => prop_assert!(v == cur && t <= cur),
            }
        }
    }

    #[test]
    fn boundaries() {
        assert!(check(Namespace::Default, 10_000).is_ok());
        assert!(check(Namespace::Default, 9_999).is_err());
        assert!(check(Namespace::Default, 14 * 86_400_000).is_ok());
        assert!(check(Namespace::Default, 14 * 86_400_000 + 1).is_err());
        assert!(check(Namespace::UserProfile, 30 * 86_400_000).is_ok());
        assert!(check(Namespace::UserProfile, 30 * 86_400_000 + 1).is_err());
        assert!(check(Namespace::LegacyClosed, 14 * 86_400_000 + 1).is_err());
        assert_eq!(
            limits(Namespace::GroupMessages).max_ms,
            TTL_MAXIMUM_PRIVATE_MS
        );
        assert_eq!(
            limits(Namespace::GroupMessages).default_ms,
            TTL_DEFAULT_CONTENT_MS
        );
    }
}
