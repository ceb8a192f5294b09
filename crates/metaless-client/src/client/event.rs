//! What the core tells the app: [`Event`]s (queued, taken with
//! [`Client::poll_event`](crate::Client::poll_event)), the [`Route`] a request took, and
//! [`Stats`] counters.

use metaless_envelope::Received;
use metaless_swarm::{MessageHash, Namespace, NodeId, UserPubkey};

use super::attachments::TransferProgress;
use super::server::ServerResponse;
use super::subscriptions::SubscriptionId;
use super::swarm_ops::RawMessage;
use crate::{FailureKind, OpId};

/// The nodes a request went through: the path (guard first) and the destination.
///
/// ```
/// use metaless_swarm::NodeId;
/// let r = metaless_client::Route { path: vec![NodeId::new([1; 32]), NodeId::new([2; 32]), NodeId::new([3; 32])], destination: NodeId::new([4; 32]) };
/// assert_eq!(r.path.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Onion hops, the guard first.
    pub path: Vec<NodeId>,
    /// The swarm member that answered.
    pub destination: NodeId,
}

/// A message that arrived: opened, its signature verified.
///
/// ```
/// # use metaless_client::{Event, Incoming};
/// fn sender(event: &Event) -> Option<String> {
///     match event {
///         Event::Received(incoming) => Some(incoming.message.sender.to_string()),
///         _ => None,
///     }
/// }
/// assert_eq!(sender(&Event::NoNodes), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The storage hash (what `mark_read` and `delete` take).
    pub hash: MessageHash,
    /// When the swarm will drop it (network time, ms).
    pub expiry_ms: u64,
    /// Sender (verified), content and timestamps.
    pub message: Received,
    /// How it was fetched.
    pub via: Route,
}

/// Something the app should know.
///
/// ```
/// use metaless_client::{Event, OpId};
/// let done = Event::Done { id: OpId::from(3) };
/// assert!(matches!(done, Event::Done { id } if id.get() == 3));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A swarm member of the recipient stored the message.
    Delivered {
        /// What `send` returned.
        id: OpId,
        /// The storage hash.
        hash: MessageHash,
        /// Path and swarm member used.
        via: Route,
        /// Swarm members whose signed reply entry confirmed the store (at least 1: the
        /// member asked; more when it answered for members it replicated to).
        stored_on: usize,
    },
    /// A message arrived.
    Received(Box<Incoming>),
    /// A message from a sender who is no contact arrived while message requests are on
    /// ([`Client::set_message_requests`](crate::Client::set_message_requests)); it is held until
    /// [`Client::accept_request`](crate::Client::accept_request) or
    /// [`Client::decline_request`](crate::Client::decline_request).
    MessageRequest(Box<Incoming>),
    /// An expiry change or delete completed.
    Done {
        /// What `mark_read` / `delete` returned.
        id: OpId,
    },
    /// An operation ended without success.
    Failed {
        /// The operation.
        id: OpId,
        /// Why, as a stable kind.
        kind: FailureKind,
    },
    /// A node said an account lives in another swarm (421); the client now uses that swarm for
    /// that account only.
    SwarmChanged {
        /// The account the request was for.
        account: UserPubkey,
        /// Its swarm now.
        swarm_id: u64,
    },
    /// A new onion path is in use (the first ones included).
    PathRebuilt {
        /// Its hops, the guard first.
        hops: Vec<NodeId>,
    },
    /// The sender of a message asked to delete it; the client deleted it from the own swarm.
    Unsent {
        /// Hash of the deleted message.
        hash: MessageHash,
    },
    /// The node list was fetched or refreshed.
    NodesUpdated {
        /// Usable nodes now known.
        count: usize,
    },
    /// No node list could be fetched from any source; operations wait and the fetch is retried.
    NoNodes,
    /// An HTTP server answered a [`Client::server_request`](crate::Client::server_request)
    /// (any status: the server's, not the path's).
    ServerResponse {
        /// What `server_request` returned.
        id: OpId,
        /// Status, headers and body.
        response: ServerResponse,
    },
    /// Progress of an attachment upload or download of
    /// [`PROGRESS_THRESHOLD`](crate::PROGRESS_THRESHOLD) bytes or more.
    Transfer(TransferProgress),
    /// A [`Client::swarm_retrieve`](crate::Client::swarm_retrieve) was answered.
    Retrieved {
        /// What `swarm_retrieve` returned.
        id: OpId,
        /// The account polled.
        account: UserPubkey,
        /// The namespace polled.
        namespace: Namespace,
        /// The messages after the given last hash, oldest first, unopened.
        messages: Vec<RawMessage>,
        /// The member holds more: retrieve again after the last hash.
        more: bool,
        /// Path and swarm member used.
        via: Route,
    },
    /// New messages in a namespace registered with
    /// [`Client::subscribe`](crate::Client::subscribe) (repeats already dropped).
    SwarmMessages {
        /// The subscription.
        sub: SubscriptionId,
        /// Its account.
        account: UserPubkey,
        /// Its namespace.
        namespace: Namespace,
        /// The new messages, oldest first, unopened.
        messages: Vec<RawMessage>,
        /// The last hash the member listed (for [`Client::subscribe_from`](crate::Client::subscribe_from) after a restart).
        last_hash: MessageHash,
    },
}

/// Counters, for diagnostics and benchmarks.
///
/// ```
/// assert_eq!(metaless_client::Stats::default().requests, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Requests handed to the transport.
    pub requests: u64,
    /// Requests that failed (no answer, path error, node error).
    pub failures: u64,
    /// Paths built.
    pub paths_built: u64,
    /// Paths dropped after failures.
    pub paths_dropped: u64,
    /// Retrieved entries that did not open for this account.
    pub undecryptable: u64,
    /// Retrieved entries already seen.
    pub duplicates: u64,
    /// Persistence calls that failed (other than accepting a send).
    pub persist_errors: u64,
    /// Polls of the own swarm answered to the end (`more: false`): the inbox was read up to
    /// then (a command line reading the inbox once waits for the first).
    pub inbox_polls: u64,
    /// Store, expire and delete replies refused for a bad or missing node signature.
    pub bad_signatures: u64,
    /// Received messages not reported: receipts or typing while those are off, stale typing
    /// indicators, control messages from senders who are no contacts.
    pub suppressed: u64,
}
