//! Call signalling messages (`Content.callMessage`, field 3): what two clients exchange to set up
//! a WebRTC call. No media; see `docs/calls.md`.
//!
//! `CallMessage` fields (libsession-util / session-desktop protos): type 1 (PRE_OFFER 6, OFFER 1,
//! ANSWER 2, PROVISIONAL_ANSWER 3, ICE_CANDIDATES 4, END_CALL 5), sdps 2, sdpMLineIndexes 3,
//! sdpMids 4, uuid 5. Desktop's rule: `sdps` must be non-empty except for PRE_OFFER and
//! END_CALL, and the uuid must be non-empty.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use thiserror::Error;

use crate::proto::session as pb;
use crate::proto::session::call_message::Type;

/// One call signalling message: which call, and what it says.
///
/// ```
/// use metaless_envelope::{CallMessage, CallSignal, Content, Message};
/// let offer = CallMessage::new("5b1c6a52-4a8c-4a53-9d0e-2b6c5cf0a111", CallSignal::Offer { sdp: "v=0\r\n".into() });
/// let content = Content::new(Message::Call(offer.clone()));
/// assert_eq!(Content::decode(&content.encode(1)).unwrap().message, Message::Call(offer));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallMessage {
    /// The call's id (field 5): UUID text, the same in every message of one call.
    pub uuid: String,
    /// What this message says.
    pub signal: CallSignal,
}

/// The signalling step a [`CallMessage`] carries.
///
/// ```
/// use metaless_envelope::CallSignal;
/// assert_eq!(CallSignal::PreOffer.type_number(), 6);
/// assert_eq!(CallSignal::EndCall.type_number(), 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallSignal {
    /// `PRE_OFFER` (6): wakes the callee before the offer; no SDP.
    PreOffer,
    /// `OFFER` (1): the caller's SDP offer.
    Offer {
        /// SDP text.
        sdp: String,
    },
    /// `ANSWER` (2): the callee's SDP answer (also sent to the callee's own swarm so its other
    /// devices stop ringing).
    Answer {
        /// SDP text.
        sdp: String,
    },
    /// `PROVISIONAL_ANSWER` (3): defined upstream, not sent by desktop.
    ProvisionalAnswer {
        /// SDP text.
        sdp: String,
    },
    /// `ICE_CANDIDATES` (4): a batch of ICE candidates.
    IceCandidates(Vec<IceCandidate>),
    /// `END_CALL` (5): reject or hang up.
    EndCall,
}

/// One ICE candidate: `sdps[i]`, `sdpMLineIndexes[i]`, `sdpMids[i]` of an ICE_CANDIDATES message.
///
/// ```
/// let c = metaless_envelope::IceCandidate { candidate: "candidate:1 1 udp 1 192.0.2.1 5000 typ host".into(), sdp_m_line_index: 0, sdp_mid: "0".into() };
/// assert_eq!(c.sdp_m_line_index, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCandidate {
    /// The candidate line (it names an IP address and port).
    pub candidate: String,
    /// The m-line index it belongs to.
    pub sdp_m_line_index: u32,
    /// The media stream id it belongs to.
    pub sdp_mid: String,
}

/// Why a `CallMessage` is not a valid signalling message.
///
/// ```
/// use metaless_envelope::CallError;
/// assert_eq!(CallError::EmptyUuid.to_string(), "call message has no uuid");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CallError {
    /// The bytes are not a `CallMessage` protobuf.
    #[error("not a call message protobuf")]
    Malformed,
    /// The uuid field is empty.
    #[error("call message has no uuid")]
    EmptyUuid,
    /// The type number is not one upstream defines.
    #[error("unknown call message type {0}")]
    UnknownType(i32),
    /// An OFFER / ANSWER / PROVISIONAL_ANSWER without exactly one SDP, or ICE_CANDIDATES without
    /// any candidate.
    #[error("call message of type {0} lacks its SDP")]
    MissingSdp(i32),
    /// ICE_CANDIDATES whose three parallel lists differ in length.
    #[error("ICE candidate lists differ in length")]
    MismatchedCandidates,
    /// A message for another call than the one it was given to.
    #[error("call message is for another call")]
    WrongCall,
    /// A message that makes no sense in the call's current state (an answer to a call we did not
    /// offer, an offer on a call already under way).
    #[error("call message not expected in this call state")]
    Unexpected,
}

impl CallSignal {
    /// The `CallMessage.Type` number.
    pub fn type_number(&self) -> i32 {
        self.raw_type() as i32
    }

    fn raw_type(&self) -> Type {
        match self {
            Self::PreOffer => Type::PreOffer,
            Self::Offer { .. } => Type::Offer,
            Self::Answer { .. } => Type::Answer,
            Self::ProvisionalAnswer { .. } => Type::ProvisionalAnswer,
            Self::IceCandidates(_) => Type::IceCandidates,
            Self::EndCall => Type::EndCall,
        }
    }
}

impl CallMessage {
    /// A message of call `uuid`.
    pub fn new(uuid: impl Into<String>, signal: CallSignal) -> Self {
        Self {
            uuid: uuid.into(),
            signal,
        }
    }

    pub(crate) fn to_raw(&self) -> pb::CallMessage {
        let mut raw = pb::CallMessage {
            r#type: self.signal.type_number(),
            uuid: self.uuid.clone(),
            ..Default::default()
        };
        match &self.signal {
            CallSignal::PreOffer | CallSignal::EndCall => {}
            CallSignal::Offer { sdp }
            | CallSignal::Answer { sdp }
            | CallSignal::ProvisionalAnswer { sdp } => raw.sdps = vec![sdp.clone()],
            CallSignal::IceCandidates(candidates) => {
                for c in candidates {
                    raw.sdps.push(c.candidate.clone());
                    raw.sdp_m_line_indexes.push(c.sdp_m_line_index);
                    raw.sdp_mids.push(c.sdp_mid.clone());
                }
            }
        }
        raw
    }

    /// Validates a received `CallMessage` protobuf.
    pub(crate) fn from_raw(raw: &pb::CallMessage) -> Result<Self, CallError> {
        if raw.uuid.is_empty() {
            return Err(CallError::EmptyUuid);
        }
        let kind = Type::try_from(raw.r#type).map_err(|_| CallError::UnknownType(raw.r#type))?;
        let one_sdp = || match raw.sdps.as_slice() {
            [sdp] => Ok(sdp.clone()),
            _ => Err(CallError::MissingSdp(raw.r#type)),
        };
        let signal = match kind {
            Type::PreOffer => CallSignal::PreOffer,
            Type::EndCall => CallSignal::EndCall,
            Type::Offer => CallSignal::Offer { sdp: one_sdp()? },
            Type::Answer => CallSignal::Answer { sdp: one_sdp()? },
            Type::ProvisionalAnswer => CallSignal::ProvisionalAnswer { sdp: one_sdp()? },
            Type::IceCandidates => {
                if raw.sdps.is_empty() {
                    return Err(CallError::MissingSdp(raw.r#type));
                }
                if raw.sdps.len() != raw.sdp_m_line_indexes.len()
                    || raw.sdps.len() != raw.sdp_mids.len()
                {
                    return Err(CallError::MismatchedCandidates);
                }
                CallSignal::IceCandidates(
                    raw.sdps
                        .iter()
                        .zip(&raw.sdp_m_line_indexes)
                        .zip(&raw.sdp_mids)
                        .map(|((candidate, index), mid)| IceCandidate {
                            candidate: candidate.clone(),
                            sdp_m_line_index: *index,
                            sdp_mid: mid.clone(),
                        })
                        .collect(),
                )
            }
        };
        Ok(Self {
            uuid: raw.uuid.clone(),
            signal,
        })
    }

    /// Parses serialized `CallMessage` protobuf bytes (the inside of `Content` field 3), with
    /// upstream's validation.
    ///
    /// ```
    /// use metaless_envelope::{CallError, CallMessage, CallSignal};
    /// // type = END_CALL (5), uuid = "u"
    /// assert_eq!(CallMessage::decode(&[0x08, 0x05, 0x2a, 0x01, b'u']), Ok(CallMessage::new("u", CallSignal::EndCall)));
    /// // type = OFFER without an SDP
    /// assert_eq!(CallMessage::decode(&[0x08, 0x01, 0x2a, 0x01, b'u']), Err(CallError::MissingSdp(1)));
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Self, CallError> {
        use prost::Message as _;
        let raw = pb::CallMessage::decode(bytes).map_err(|_| CallError::Malformed)?;
        Self::from_raw(&raw)
    }
}
