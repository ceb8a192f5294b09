//! Call signalling over the client (issue 17 item 3): [`Calls`] sits beside a [`Client`] (like
//! `ConfigSync`) and drives one `metaless_envelope::Call` state machine per call. What a call
//! sends goes out as a one-to-one message with the call TTL (`CALL_MESSAGE_TTL_MS`, 5 min);
//! the callee's ANSWER and END_CALL also go to the own swarm so the account's other devices stop
//! ringing. Call messages that arrive reach it through [`Calls::handle_event`]; what the app
//! must act on (ringing, the peer's SDP and candidates, state changes) comes out of
//! [`Calls::poll_event`]. No media: see `docs/calls.md` (a call's media exposes IPs to the peer).
//!
//! ```
//! use metaless_client::{Bootstrap, Calls, Client, Config};
//! use metaless_envelope::{CallEvent, CallState};
//! use metaless_identity::{Keypair, Seed};
//! let mut alice = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
//!     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
//! let bob = Keypair::from_seed(&Seed::from_bytes([2; 32])).session_id();
//! let mut calls = Calls::default();
//! calls.start(&mut alice, 1_000, &bob, "3f0e8c1a-5b2d-4e6f-8a9b-0c1d2e3f4a5b", "v=0 offer")?;
//! assert_eq!(alice.pending_sends(), 2); // PRE_OFFER and OFFER
//! assert_eq!(calls.state("3f0e8c1a-5b2d-4e6f-8a9b-0c1d2e3f4a5b"), Some(CallState::Ringing));
//! calls.end(&mut alice, 2_000, "3f0e8c1a-5b2d-4e6f-8a9b-0c1d2e3f4a5b")?;
//! assert_eq!(alice.pending_sends(), 3); // END_CALL
//! # Ok::<(), metaless_client::CallsError>(())
//! ```

use std::collections::{BTreeMap, VecDeque};

use metaless_envelope::{
    CALL_MESSAGE_TTL_MS, Call, CallDirection, CallError, CallEvent, CallSignal, CallState, Content,
    IceCandidate, Message,
};
use metaless_identity::SessionId;

use super::Client;
use super::event::Event;
use crate::ClientError;

/// Calls kept at once (ringing, answered, or recently over so late messages are recognised);
/// the oldest finished ones are dropped first.
pub const MAX_CALLS: usize = 64;

/// Something about one call the app must act on.
///
/// ```
/// use metaless_client::CallUpdate;
/// use metaless_envelope::{CallEvent, CallState};
/// let u = CallUpdate { peer: "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72".parse().unwrap(),
///     uuid: "u".into(), event: CallEvent::StateChanged(CallState::Ringing) };
/// assert_eq!(u.uuid, "u");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallUpdate {
    /// The other party.
    pub peer: SessionId,
    /// The call.
    pub uuid: String,
    /// What happened.
    pub event: CallEvent,
}

/// Why a call operation was refused.
///
/// ```
/// let e = metaless_client::CallsError::UnknownCall;
/// assert_eq!(e.to_string(), "no such call");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallsError {
    /// No call with that uuid.
    #[error("no such call")]
    UnknownCall,
    /// A call with that uuid exists already.
    #[error("a call with that uuid exists")]
    DuplicateCall,
    /// The call's state does not allow it (e.g. answering before the offer arrived).
    #[error("call: {0}")]
    Call(#[from] CallError),
    /// Sending a call message failed.
    #[error("call message: {0}")]
    Client(#[from] ClientError),
}

struct Active {
    peer: SessionId,
    call: Call,
    /// Order of creation, to drop the oldest finished call first.
    seq: u64,
}

/// The calls of one account: start, answer, hang up, and what arrives.
#[derive(Default)]
pub struct Calls {
    calls: BTreeMap<String, Active>,
    events: VecDeque<CallUpdate>,
    seq: u64,
}

impl core::fmt::Debug for Calls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Calls")
            .field("calls", &self.calls.len())
            .finish_non_exhaustive()
    }
}

impl Calls {
    /// Calls `to` with our SDP offer under `uuid` (a fresh UUID v4 text): PRE_OFFER and OFFER
    /// are sent; the call rings until answered, rejected or 60 s pass.
    pub fn start(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        to: &SessionId,
        uuid: &str,
        offer_sdp: &str,
    ) -> Result<(), CallsError> {
        if self.calls.contains_key(uuid) {
            return Err(CallsError::DuplicateCall);
        }
        if uuid.is_empty() {
            return Err(CallsError::Call(CallError::EmptyUuid));
        }
        let call = Call::outgoing(uuid, offer_sdp, client.network_now(now_ms));
        self.insert(*to, call);
        self.flush(client, now_ms, uuid)
    }

    /// Answers the incoming call `uuid` with our SDP (after its offer arrived): ANSWER goes to
    /// the caller and to our own other devices.
    pub fn answer(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        uuid: &str,
        answer_sdp: &str,
    ) -> Result<(), CallsError> {
        let now = client.network_now(now_ms);
        self.get(uuid)?.call.answer(answer_sdp, now)?;
        self.flush(client, now_ms, uuid)
    }

    /// Sends our ICE candidates for call `uuid` (ignored once it is over). Each names an
    /// address of this device: filter them first if the peer must not see it.
    pub fn send_candidates(
        &mut self,
        client: &mut Client,
        now_ms: u64,
        uuid: &str,
        candidates: Vec<IceCandidate>,
    ) -> Result<(), CallsError> {
        self.get(uuid)?.call.send_candidates(candidates);
        self.flush(client, now_ms, uuid)
    }

    /// Hangs up, cancels or rejects call `uuid`: END_CALL goes to the peer (and, as the callee,
    /// to our own other devices).
    pub fn end(&mut self, client: &mut Client, now_ms: u64, uuid: &str) -> Result<(), CallsError> {
        self.get(uuid)?.call.hang_up();
        self.flush(client, now_ms, uuid)
    }

    /// Where call `uuid` is, if known.
    pub fn state(&self, uuid: &str) -> Option<CallState> {
        self.calls.get(uuid).map(|a| a.call.state())
    }

    /// The calls known, with their peer and state.
    ///
    /// ```
    /// assert!(metaless_client::Calls::default().calls().is_empty());
    /// ```
    pub fn calls(&self) -> Vec<(String, SessionId, CallDirection, CallState)> {
        self.calls
            .iter()
            .map(|(u, a)| (u.clone(), a.peer, a.call.direction(), a.call.state()))
            .collect()
    }

    /// Feeds an event from [`Client::poll_event`]: a received call message is taken (`true`);
    /// anything else is left for the app (`false`). A call message from one of our own devices
    /// (an ANSWER or END_CALL copy) stops this device ringing. Call messages that do not fit a
    /// call (unknown uuid and no offer, another peer's message for a call) are dropped.
    pub fn handle_event(&mut self, client: &mut Client, now_ms: u64, event: &Event) -> bool {
        let Event::Received(incoming) = event else {
            return false;
        };
        let Message::Call(message) = &incoming.message.content.message else {
            return false;
        };
        let now = client.network_now(now_ms);
        let sender = incoming.message.sender;
        let uuid = message.uuid.clone();
        if sender == client.session_id() {
            if let Some(active) = self.calls.get_mut(&uuid) {
                let _ = active.call.handle_own_device(message);
            }
        } else if let Some(active) = self.calls.get_mut(&uuid) {
            if active.peer == sender {
                // A message the call's state does not expect is dropped, the call goes on.
                let _ = active.call.handle(message, now);
            }
        } else if matches!(
            message.signal,
            CallSignal::PreOffer | CallSignal::Offer { .. }
        ) && let Ok(call) = Call::incoming(message, incoming.message.sent_at_ms, now)
        {
            self.insert(sender, call);
        }
        // Sending failures surface as the client's own events; the call state has moved.
        let _ = self.flush(client, now_ms, &uuid);
        true
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called (local ms), if ever.
    pub fn poll_timeout(&self, client: &Client, now_ms: u64) -> Option<u64> {
        // Deadlines are network time; the app's timer is local.
        let net = i128::from(client.network_now(now_ms));
        self.calls
            .values()
            .filter_map(|a| a.call.poll_timeout())
            .min()
            .map(|t| {
                (i128::from(t) - net + i128::from(now_ms)).clamp(0, i128::from(u64::MAX)) as u64
            })
    }

    /// Time passed: unanswered calls past 60 s time out (ours, sending END_CALL) or are missed.
    pub fn handle_timeout(&mut self, client: &mut Client, now_ms: u64) {
        let now = client.network_now(now_ms);
        let uuids: Vec<String> = self.calls.keys().cloned().collect();
        for uuid in uuids {
            if let Some(active) = self.calls.get_mut(&uuid) {
                active.call.handle_timeout(now);
            }
            let _ = self.flush(client, now_ms, &uuid);
        }
    }

    /// The next thing for the app, if any.
    pub fn poll_event(&mut self) -> Option<CallUpdate> {
        self.events.pop_front()
    }

    fn get(&mut self, uuid: &str) -> Result<&mut Active, CallsError> {
        self.calls.get_mut(uuid).ok_or(CallsError::UnknownCall)
    }

    fn insert(&mut self, peer: SessionId, call: Call) {
        if self.calls.len() >= MAX_CALLS {
            let oldest = self
                .calls
                .iter()
                .filter(|(_, a)| a.call.state().is_final())
                .min_by_key(|(_, a)| a.seq)
                .map(|(u, _)| u.clone());
            match oldest {
                Some(u) => {
                    self.calls.remove(&u);
                }
                // Every slot is a live call: the new one is not tracked.
                None => return,
            }
        }
        self.seq += 1;
        let uuid = call.uuid().to_owned();
        self.calls.insert(
            uuid,
            Active {
                peer,
                call,
                seq: self.seq,
            },
        );
    }

    /// Sends what call `uuid` queued and moves its events to the app's queue.
    fn flush(&mut self, client: &mut Client, now_ms: u64, uuid: &str) -> Result<(), CallsError> {
        let Some(active) = self.calls.get_mut(uuid) else {
            return Ok(());
        };
        while let Some(event) = active.call.poll_event() {
            self.events.push_back(CallUpdate {
                peer: active.peer,
                uuid: uuid.to_owned(),
                event,
            });
        }
        let me = client.session_id();
        let mut result = Ok(());
        while let Some(t) = active.call.poll_transmit() {
            let content = Content::new(Message::Call(t.message));
            let mut to = vec![active.peer];
            if t.sync_to_own_devices {
                to.push(me);
            }
            for to in to {
                if let Err(e) = client.send_with_ttl(now_ms, &to, &content, CALL_MESSAGE_TTL_MS) {
                    result = Err(CallsError::Client(e));
                }
            }
        }
        result
    }
}
