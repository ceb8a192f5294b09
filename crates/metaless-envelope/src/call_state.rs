//! A sans-IO state machine for one call's signalling, in the quinn-proto shape: feed it received
//! [`CallMessage`]s and the time, take out what to send ([`Call::poll_transmit`]) and what
//! happened ([`Call::poll_event`]), wake it at [`Call::poll_timeout`].
//!
//! It follows session-desktop's CallManager: the caller sends PRE_OFFER then OFFER; the callee
//! rings; ANSWER and END_CALL from the callee also go to its own swarm so its other devices stop
//! ringing; an unanswered call ends after [`CALL_TIMEOUT_MS`]; an offer older than that is
//! missed, not rung. Media (WebRTC) is the app's: this machine only carries SDPs and candidates.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use crate::call::{CallError, CallMessage, CallSignal, IceCandidate};

/// How long a call rings before it times out (caller) or is missed (callee), and how old an
/// offer may be and still ring: 60 s (desktop `callTimeoutMs`).
///
/// ```
/// assert_eq!(metaless_envelope::CALL_TIMEOUT_MS, 60_000);
/// ```
pub const CALL_TIMEOUT_MS: u64 = 60_000;

/// Where a call is.
///
/// ```
/// assert_ne!(metaless_envelope::CallState::Ringing, metaless_envelope::CallState::Answered);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallState {
    /// Offered, not yet answered.
    Ringing,
    /// Answered; media may flow (between the two devices, peer to peer or via TURN).
    Answered,
    /// Hung up or rejected by either side, or answered / rejected on another of our devices.
    Ended,
    /// (Callee) the caller gave up, or the offer was too old, before we answered.
    Missed,
    /// (Caller) nobody answered within [`CALL_TIMEOUT_MS`].
    TimedOut,
}

impl CallState {
    /// Whether the call is over.
    ///
    /// ```
    /// assert!(metaless_envelope::CallState::Missed.is_final());
    /// ```
    pub fn is_final(self) -> bool {
        matches!(self, Self::Ended | Self::Missed | Self::TimedOut)
    }
}

/// Who started the call.
///
/// ```
/// assert_ne!(metaless_envelope::CallDirection::Outgoing, metaless_envelope::CallDirection::Incoming);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallDirection {
    /// We called.
    Outgoing,
    /// We are called.
    Incoming,
}

/// Something the app must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEvent {
    /// (Callee) the caller's SDP offer: give it to the WebRTC stack, then [`Call::answer`].
    RemoteOffer(String),
    /// (Caller) the callee's SDP answer.
    RemoteAnswer(String),
    /// (Caller) a provisional answer (upstream defines it; desktop never sends one).
    RemoteProvisionalAnswer(String),
    /// The peer's ICE candidates.
    RemoteCandidates(Vec<IceCandidate>),
    /// The call moved to this state.
    StateChanged(CallState),
}

/// A message to send to the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTransmit {
    /// The message (send it as a one-to-one message with the call TTL,
    /// [`crate::CALL_MESSAGE_TTL_MS`]).
    pub message: CallMessage,
    /// Also store a copy in our own swarm, so our other devices see it (ANSWER and END_CALL
    /// from the callee).
    pub sync_to_own_devices: bool,
}

/// One call's signalling state.
///
/// ```
/// use metaless_envelope::{Call, CallEvent, CallSignal, CallState};
/// let now = 1_000_000;
/// let mut alice = Call::outgoing("6f1c2d3e-0000-4000-8000-000000000001", "v=0 offer", now);
/// // Alice sends PRE_OFFER then OFFER; Bob's side is built from what arrives.
/// let pre_offer = alice.poll_transmit().unwrap().message;
/// let offer = alice.poll_transmit().unwrap().message;
/// let mut bob = Call::incoming(&pre_offer, now, now + 100)?;
/// bob.handle(&offer, now + 200)?;
/// assert_eq!(bob.poll_event(), Some(CallEvent::StateChanged(CallState::Ringing)));
/// assert_eq!(bob.poll_event(), Some(CallEvent::RemoteOffer("v=0 offer".into())));
/// bob.answer("v=0 answer", now + 300)?;
/// let answer = bob.poll_transmit().unwrap();
/// assert!(answer.sync_to_own_devices);
/// alice.handle(&answer.message, now + 400)?;
/// assert_eq!(alice.state(), CallState::Answered);
/// alice.hang_up();
/// bob.handle(&alice.poll_transmit().unwrap().message, now + 500)?;
/// assert_eq!(bob.state(), CallState::Ended);
/// # Ok::<(), metaless_envelope::CallError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Call {
    uuid: String,
    direction: CallDirection,
    state: CallState,
    /// When an unanswered call stops ringing.
    ring_deadline_ms: u64,
    /// (Callee) whether the OFFER has arrived (PRE_OFFER alone cannot be answered).
    have_remote_offer: bool,
    transmits: VecDeque<CallTransmit>,
    events: VecDeque<CallEvent>,
}

impl Call {
    /// Starts a call `uuid` (a fresh UUID v4 text the app makes) with our SDP offer: queues
    /// PRE_OFFER and OFFER; the call rings until answered or [`CALL_TIMEOUT_MS`] passes.
    pub fn outgoing(uuid: impl Into<String>, offer_sdp: impl Into<String>, now_ms: u64) -> Self {
        let uuid = uuid.into();
        let mut call = Self {
            uuid: uuid.clone(),
            direction: CallDirection::Outgoing,
            state: CallState::Ringing,
            ring_deadline_ms: now_ms.saturating_add(CALL_TIMEOUT_MS),
            have_remote_offer: false,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        call.send(CallSignal::PreOffer, false);
        call.send(
            CallSignal::Offer {
                sdp: offer_sdp.into(),
            },
            false,
        );
        call
    }

    /// A call that arrived: `first` is its PRE_OFFER or OFFER, sent (by the sender's clock) at
    /// `sent_at_ms`. An offer older than [`CALL_TIMEOUT_MS`] starts as [`CallState::Missed`].
    ///
    /// ```
    /// use metaless_envelope::{Call, CallError, CallMessage, CallSignal, CallState};
    /// let stale = CallMessage::new("u", CallSignal::PreOffer);
    /// assert_eq!(Call::incoming(&stale, 0, 61_000)?.state(), CallState::Missed);
    /// let not_a_start = CallMessage::new("u", CallSignal::EndCall);
    /// assert_eq!(Call::incoming(&not_a_start, 0, 0).unwrap_err(), CallError::Unexpected);
    /// # Ok::<(), CallError>(())
    /// ```
    pub fn incoming(first: &CallMessage, sent_at_ms: u64, now_ms: u64) -> Result<Self, CallError> {
        if !matches!(
            first.signal,
            CallSignal::PreOffer | CallSignal::Offer { .. }
        ) {
            return Err(CallError::Unexpected);
        }
        let mut call = Self {
            uuid: first.uuid.clone(),
            direction: CallDirection::Incoming,
            state: CallState::Ringing,
            ring_deadline_ms: sent_at_ms.saturating_add(CALL_TIMEOUT_MS),
            have_remote_offer: false,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        if now_ms >= call.ring_deadline_ms {
            call.set_state(CallState::Missed);
            return Ok(call);
        }
        call.events
            .push_back(CallEvent::StateChanged(CallState::Ringing));
        if let CallSignal::Offer { sdp } = &first.signal {
            call.have_remote_offer = true;
            call.events.push_back(CallEvent::RemoteOffer(sdp.clone()));
        }
        Ok(call)
    }

    /// The call's uuid.
    pub fn uuid(&self) -> &str {
        &self.uuid
    }

    /// Who started it.
    pub fn direction(&self) -> CallDirection {
        self.direction
    }

    /// Where it is.
    pub fn state(&self) -> CallState {
        self.state
    }

    /// Feeds a message the peer sent for this call.
    ///
    /// Messages after the call is over are ignored; an ANSWER to a call we did not make, an
    /// OFFER on an outgoing call or a second different OFFER is [`CallError::Unexpected`].
    pub fn handle(&mut self, message: &CallMessage, now_ms: u64) -> Result<(), CallError> {
        if message.uuid != self.uuid {
            return Err(CallError::WrongCall);
        }
        self.handle_timeout(now_ms);
        if self.state.is_final() {
            return Ok(());
        }
        match (&message.signal, self.direction) {
            (CallSignal::PreOffer, CallDirection::Incoming) => Ok(()),
            (CallSignal::Offer { sdp }, CallDirection::Incoming) => {
                if self.have_remote_offer {
                    return Err(CallError::Unexpected);
                }
                self.have_remote_offer = true;
                self.events.push_back(CallEvent::RemoteOffer(sdp.clone()));
                Ok(())
            }
            (CallSignal::Answer { sdp }, CallDirection::Outgoing)
                if self.state == CallState::Ringing =>
            {
                self.events.push_back(CallEvent::RemoteAnswer(sdp.clone()));
                self.set_state(CallState::Answered);
                Ok(())
            }
            (CallSignal::ProvisionalAnswer { sdp }, CallDirection::Outgoing)
                if self.state == CallState::Ringing =>
            {
                self.events
                    .push_back(CallEvent::RemoteProvisionalAnswer(sdp.clone()));
                Ok(())
            }
            (CallSignal::IceCandidates(candidates), _) => {
                self.events
                    .push_back(CallEvent::RemoteCandidates(candidates.clone()));
                Ok(())
            }
            (CallSignal::EndCall, _) => {
                let unanswered_incoming =
                    self.direction == CallDirection::Incoming && self.state == CallState::Ringing;
                self.set_state(if unanswered_incoming {
                    CallState::Missed
                } else {
                    CallState::Ended
                });
                Ok(())
            }
            _ => Err(CallError::Unexpected),
        }
    }

    /// Feeds a message of this call that one of *our own* other devices sent (found in our own
    /// swarm): its ANSWER or END_CALL means this device stops ringing.
    ///
    /// ```
    /// use metaless_envelope::{Call, CallMessage, CallSignal, CallState};
    /// let mut here = Call::incoming(&CallMessage::new("u", CallSignal::Offer { sdp: "o".into() }), 0, 10)?;
    /// here.handle_own_device(&CallMessage::new("u", CallSignal::Answer { sdp: "a".into() }))?;
    /// assert_eq!(here.state(), CallState::Ended);
    /// # Ok::<(), metaless_envelope::CallError>(())
    /// ```
    pub fn handle_own_device(&mut self, message: &CallMessage) -> Result<(), CallError> {
        if message.uuid != self.uuid {
            return Err(CallError::WrongCall);
        }
        if self.direction == CallDirection::Incoming
            && self.state == CallState::Ringing
            && matches!(
                message.signal,
                CallSignal::Answer { .. } | CallSignal::EndCall
            )
        {
            self.set_state(CallState::Ended);
        }
        Ok(())
    }

    /// (Callee) answers with our SDP: queues ANSWER (synced to our other devices) and moves to
    /// [`CallState::Answered`]. Needs the caller's OFFER first.
    ///
    /// ```
    /// use metaless_envelope::{Call, CallError, CallMessage, CallSignal};
    /// let mut early = Call::incoming(&CallMessage::new("u", CallSignal::PreOffer), 0, 10)?;
    /// assert_eq!(early.answer("a", 20), Err(CallError::Unexpected)); // no offer yet
    /// # Ok::<(), CallError>(())
    /// ```
    pub fn answer(&mut self, answer_sdp: impl Into<String>, now_ms: u64) -> Result<(), CallError> {
        self.handle_timeout(now_ms);
        if self.direction != CallDirection::Incoming
            || self.state != CallState::Ringing
            || !self.have_remote_offer
        {
            return Err(CallError::Unexpected);
        }
        self.send(
            CallSignal::Answer {
                sdp: answer_sdp.into(),
            },
            true,
        );
        self.set_state(CallState::Answered);
        Ok(())
    }

    /// Queues our ICE candidates (ignored once the call is over).
    pub fn send_candidates(&mut self, candidates: Vec<IceCandidate>) {
        if !self.state.is_final() && !candidates.is_empty() {
            self.send(CallSignal::IceCandidates(candidates), false);
        }
    }

    /// Hangs up, cancels or rejects: queues END_CALL (synced to our other devices when we are
    /// the callee) and moves to [`CallState::Ended`]. Does nothing once the call is over.
    pub fn hang_up(&mut self) {
        if self.state.is_final() {
            return;
        }
        self.send(
            CallSignal::EndCall,
            self.direction == CallDirection::Incoming,
        );
        self.set_state(CallState::Ended);
    }

    /// When [`Call::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<u64> {
        (self.state == CallState::Ringing).then_some(self.ring_deadline_ms)
    }

    /// Advances time: an unanswered call past its deadline times out (caller, which sends
    /// END_CALL) or is missed (callee).
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self.state != CallState::Ringing || now_ms < self.ring_deadline_ms {
            return;
        }
        match self.direction {
            CallDirection::Outgoing => {
                self.send(CallSignal::EndCall, false);
                self.set_state(CallState::TimedOut);
            }
            CallDirection::Incoming => self.set_state(CallState::Missed),
        }
    }

    /// The next message to send, if any.
    pub fn poll_transmit(&mut self) -> Option<CallTransmit> {
        self.transmits.pop_front()
    }

    /// The next event for the app, if any.
    pub fn poll_event(&mut self) -> Option<CallEvent> {
        self.events.pop_front()
    }

    fn send(&mut self, signal: CallSignal, sync_to_own_devices: bool) {
        self.transmits.push_back(CallTransmit {
            message: CallMessage::new(self.uuid.clone(), signal),
            sync_to_own_devices,
        });
    }

    fn set_state(&mut self, state: CallState) {
        if self.state != state || state == CallState::Missed {
            self.state = state;
            self.events.push_back(CallEvent::StateChanged(state));
        }
    }
}
