//! Attachments: encrypt → upload to a file server through an onion path → an
//! [`AttachmentPointer`] to put into a message; and pointer → download → decrypt. The client is
//! a state machine, so each is two steps: the start call queues a
//! [`server_request`](Client::server_request) and returns a pending value; hand it the
//! [`Event::ServerResponse`](crate::Event::ServerResponse) with the same op id to finish.
//! Byte formats: `metaless-attachment`, `docs/attachments.md`.
//!
//! Transfers of [`PROGRESS_THRESHOLD`] bytes or more are reported as
//! [`Event::Transfer`](crate::Event::Transfer) ([`TransferProgress`]): `Started` when queued,
//! `Sent` each time the request is handed to the transport, `Bytes` when a transport that
//! streams reports progress through [`Client::report_transfer`], and `Finished` just before the
//! op's `ServerResponse` event.

use metaless_attachment::{
    AttachmentKey, Domain, FileRequest, FileServer, FileUrl, LegacyKey, Scheme, decrypt,
    decrypt_legacy, download_reply_parts, encrypt, upload_reply_parts,
};
use metaless_envelope::{AttachmentPointer, SecretBytes};
use metaless_identity::Seed;
use metaless_onion::{Destination, ServerDestination};
use std::collections::BTreeMap;

use super::Client;
use super::event::Event;
use super::server::{ServerRequest, ServerResponse};
use crate::transport::{RequestId, Transmit};
use crate::{ClientError, OpId};

/// Uploads and downloads of this many plaintext bytes or more report
/// [`Event::Transfer`](crate::Event::Transfer) progress (downloads whose pointer has no size
/// too). Below it a transfer is one quick request and a progress display would only flicker.
pub const PROGRESS_THRESHOLD: usize = 256 * 1024;

/// Which way an attachment's bytes go.
///
/// ```
/// use metaless_client::TransferDirection;
/// assert_ne!(TransferDirection::Upload, TransferDirection::Download);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferDirection {
    /// Encrypted bytes to the file server.
    Upload,
    /// Encrypted bytes from the file server.
    Download,
}

/// Where a transfer is.
///
/// ```
/// use metaless_client::TransferStage;
/// assert_eq!(TransferStage::Sent { attempt: 1 }, TransferStage::Sent { attempt: 1 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferStage {
    /// Queued (for an upload: encrypted, `total` known).
    Started,
    /// The request was handed to the transport (attempt 1, then again on each retry through
    /// another path; `bytes` starts over at 0).
    Sent {
        /// Attempt number, from 1.
        attempt: u32,
    },
    /// The transport reported bytes moved ([`Client::report_transfer`]).
    Bytes,
    /// The server answered (any status); the op's `ServerResponse` event follows.
    Finished,
}

/// Progress of an attachment upload or download (see [`PROGRESS_THRESHOLD`]). `bytes` and
/// `total` count what moves on the wire for the file: for an upload the request body (the
/// onion around the encrypted file, once it is built; the encrypted size before), for a
/// download the response body (estimated from the pointer's size until the answer is in).
///
/// ```
/// use metaless_client::{OpId, TransferDirection, TransferProgress, TransferStage};
/// let p = TransferProgress { id: OpId::from(1), direction: TransferDirection::Upload,
///     stage: TransferStage::Bytes, bytes: 25, total: Some(100) };
/// assert_eq!(p.percent(), Some(25));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferProgress {
    /// The upload's or download's op id ([`AttachmentUpload::op`], [`AttachmentDownload::op`]).
    pub id: OpId,
    /// Upload or download.
    pub direction: TransferDirection,
    /// Where it is.
    pub stage: TransferStage,
    /// Bytes moved so far.
    pub bytes: u64,
    /// Bytes to move, when known.
    pub total: Option<u64>,
}

impl TransferProgress {
    /// `bytes` as a whole percentage of `total` (capped at 100), when the total is known.
    ///
    /// ```
    /// # use metaless_client::{OpId, TransferDirection, TransferProgress, TransferStage};
    /// let p = TransferProgress { id: OpId::from(1), direction: TransferDirection::Download,
    ///     stage: TransferStage::Started, bytes: 0, total: None };
    /// assert_eq!(p.percent(), None);
    /// ```
    pub fn percent(&self) -> Option<u8> {
        let total = self.total?;
        if total == 0 {
            return Some(100);
        }
        Some((self.bytes.min(total) * 100 / total) as u8)
    }
}

/// The transfers being reported, by op (a `Client` field).
#[derive(Debug, Default)]
pub(super) struct Transfers {
    by_op: BTreeMap<OpId, Tracked>,
    /// Requests in flight for tracked ops.
    requests: BTreeMap<RequestId, OpId>,
}

#[derive(Debug)]
struct Tracked {
    direction: TransferDirection,
    total: Option<u64>,
    attempts: u32,
    /// Bytes last reported, so small steps do not flood the event queue.
    reported: u64,
}

/// Smallest step between two `Bytes` events: 1 % of the total, at least 16 KiB.
fn step(total: Option<u64>) -> u64 {
    total.map_or(0, |t| t / 100).max(16 * 1024)
}

/// What an upload carries besides the bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadOptions {
    /// File name (into `Content-Disposition` and the pointer).
    pub file_name: Option<String>,
    /// MIME type (into the pointer).
    pub content_type: Option<String>,
    /// Requested lifetime on the server (`X-FS-TTL`), seconds.
    pub ttl_s: Option<u64>,
    /// Profile pictures use [`Domain::ProfilePic`]; default attachment.
    pub profile_pic: bool,
}

fn invalid(e: metaless_attachment::AttachmentError) -> ClientError {
    ClientError::InvalidRequest(e.to_string())
}

fn destination(server: &FileServer) -> Result<ServerDestination, ClientError> {
    match server.destination().map_err(invalid)? {
        Destination::Server(d) => Ok(d),
        Destination::ServiceNode(_) => Err(ClientError::InvalidRequest("not a server".into())),
    }
}

/// An upload in flight: finish it with the server's answer.
#[derive(Debug)]
pub struct AttachmentUpload {
    op: OpId,
    key: AttachmentKey,
    size: u32,
    encrypted_len: usize,
    server: FileServer,
    options: UploadOptions,
}

impl AttachmentUpload {
    /// The `server_request` op id to match with `Event::ServerResponse`.
    pub fn op(&self) -> OpId {
        self.op
    }

    /// Bytes on the wire (for a progress display).
    pub fn encrypted_len(&self) -> usize {
        self.encrypted_len
    }

    /// The pointer for the message, from the server's answer (non-2xx → `InvalidRequest`
    /// naming the status).
    pub fn finish(self, response: &ServerResponse) -> Result<AttachmentPointer, ClientError> {
        let meta = upload_reply_parts(response.status, &response.body).map_err(invalid)?;
        let url = self.server.download_url(&meta.id, true);
        let mut p = AttachmentPointer::new(
            url,
            SecretBytes::new(self.key.expose_secret().to_vec()),
            self.size,
        );
        p.id = meta.id.parse().unwrap_or(0);
        p.content_type = self.options.content_type;
        p.file_name = self.options.file_name;
        Ok(p)
    }
}

/// A download in flight: finish it with the server's answer to get the plaintext.
#[derive(Debug)]
pub struct AttachmentDownload {
    op: OpId,
    scheme: Scheme,
    key: SecretBytes,
    digest: Option<Vec<u8>>,
    size: Option<u32>,
}

impl AttachmentDownload {
    /// The `server_request` op id.
    pub fn op(&self) -> OpId {
        self.op
    }

    /// Decrypts the downloaded bytes (404 = expired or gone).
    pub fn finish(self, response: &ServerResponse) -> Result<Vec<u8>, ClientError> {
        let d = download_reply_parts(response.status, &response.headers, &response.body)
            .map_err(invalid)?;
        let plain = match self.scheme {
            Scheme::Stream => {
                let key = AttachmentKey::from_slice(self.key.expose_secret()).map_err(invalid)?;
                decrypt(d.data, &key).map_err(invalid)?
            }
            Scheme::Legacy => {
                let key = LegacyKey::from_slice(self.key.expose_secret()).map_err(invalid)?;
                decrypt_legacy(
                    &key,
                    d.data,
                    self.digest.as_deref(),
                    self.size.map(u64::from),
                )
                .map_err(invalid)?
            }
        };
        if let Some(size) = self.size
            && plain.len() != size as usize
        {
            return Err(ClientError::InvalidRequest(
                "attachment size differs from its pointer".into(),
            ));
        }
        Ok(plain)
    }
}

impl Client {
    /// Encrypts `data` (the 'S' format, key from this account's seed and the content) and
    /// queues its upload to `server`.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, UploadOptions};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_attachment::FileServer;
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let up = client.upload_attachment(1_000, &FileServer::default_server(), b"photo", UploadOptions::default()).unwrap();
    /// assert_eq!(up.encrypted_len(), 4096);
    /// assert_eq!(client.pending_ops(), 1);
    /// ```
    pub fn upload_attachment(
        &mut self,
        now_ms: u64,
        server: &FileServer,
        data: &[u8],
        options: UploadOptions,
    ) -> Result<AttachmentUpload, ClientError> {
        let size = u32::try_from(data.len()).map_err(|_| ClientError::TooLarge {
            len: data.len(),
            max: u32::MAX as usize,
        })?;
        let seed = Seed::from_bytes(self.keys.signing_key().to_bytes());
        let domain = if options.profile_pic {
            Domain::ProfilePic
        } else {
            Domain::Attachment
        };
        let (blob, key) = encrypt(&seed, data, domain, false).map_err(|e| match e {
            metaless_attachment::AttachmentError::TooLarge { len, max } => ClientError::TooLarge {
                len: len as usize,
                max: max as usize,
            },
            e => invalid(e),
        })?;
        let encrypted_len = blob.len();
        let req = FileRequest::upload(blob, options.file_name.as_deref(), options.ttl_s)
            .map_err(invalid)?;
        let op = self.server_request(now_ms, to_server_request(destination(server)?, req))?;
        if data.len() >= PROGRESS_THRESHOLD {
            self.track_transfer(op, TransferDirection::Upload, Some(encrypted_len as u64));
        }
        Ok(AttachmentUpload {
            op,
            key,
            size,
            encrypted_len,
            server: server.clone(),
            options,
        })
    }

    /// Queues the download of a received pointer (its URL names the server; the key length
    /// and the `d` flag choose 'S' or legacy decryption).
    pub fn download_attachment(
        &mut self,
        now_ms: u64,
        pointer: &AttachmentPointer,
    ) -> Result<AttachmentDownload, ClientError> {
        let url = pointer
            .url
            .as_deref()
            .ok_or_else(|| ClientError::InvalidRequest("attachment without URL".into()))?;
        let parsed = FileUrl::parse(url).map_err(invalid)?;
        let key = pointer
            .key
            .as_ref()
            .ok_or_else(|| ClientError::InvalidRequest("attachment without key".into()))?;
        let scheme = parsed.scheme_for_key(key.len());
        let server = parsed.server().map_err(invalid)?;
        let req = FileRequest::download(&parsed.file_id).map_err(invalid)?;
        let op = self.server_request(now_ms, to_server_request(destination(&server)?, req))?;
        let expected = pointer.size.map(|n| match scheme {
            Scheme::Stream => metaless_attachment::encrypted_size(u64::from(n)),
            Scheme::Legacy => legacy_blob_size(u64::from(n)),
        });
        if pointer
            .size
            .is_none_or(|n| n as usize >= PROGRESS_THRESHOLD)
        {
            self.track_transfer(op, TransferDirection::Download, expected);
        }
        Ok(AttachmentDownload {
            op,
            scheme,
            key: SecretBytes::new(key.expose_secret().to_vec()),
            digest: pointer.digest.clone(),
            size: pointer.size,
        })
    }
}

/// Size of a legacy blob for `n` plaintext bytes: IV, padded data to the next AES block
/// (PKCS7 adds a block when already aligned), MAC.
fn legacy_blob_size(n: u64) -> u64 {
    let padded = metaless_attachment::legacy_padded_size(n);
    16 + (padded / 16 + 1) * 16 + 32
}

impl Client {
    fn track_transfer(&mut self, id: OpId, direction: TransferDirection, total: Option<u64>) {
        self.transfers.by_op.insert(
            id,
            Tracked {
                direction,
                total,
                attempts: 0,
                reported: 0,
            },
        );
        self.events.push_back(Event::Transfer(TransferProgress {
            id,
            direction,
            stage: TransferStage::Started,
            bytes: 0,
            total,
        }));
    }

    /// Called for every transmit handed out: a tracked op's attempt becomes a `Sent` event.
    pub(super) fn transfer_on_transmit(&mut self, t: &Transmit) {
        if self.transfers.by_op.is_empty() {
            return;
        }
        let Some(id) = self
            .requests
            .op_of(t.id)
            .and_then(|key| self.ops.get(key)?.user)
        else {
            return;
        };
        let Some(tr) = self.transfers.by_op.get_mut(&id) else {
            return;
        };
        tr.attempts += 1;
        tr.reported = 0;
        if tr.direction == TransferDirection::Upload {
            tr.total = Some(t.body.len() as u64);
        }
        // A retry replaces the earlier attempt: its late reports no longer count.
        self.transfers.requests.retain(|_, op| *op != id);
        self.transfers.requests.insert(t.id, id);
        let event = TransferProgress {
            id,
            direction: tr.direction,
            stage: TransferStage::Sent {
                attempt: tr.attempts,
            },
            bytes: 0,
            total: tr.total,
        };
        self.events.push_back(Event::Transfer(event));
    }

    /// Called before an event is handed to the app: a tracked op's `ServerResponse` is preceded
    /// by `Finished`; a `Failed` one ends the tracking.
    pub(super) fn transfer_before_event(&mut self) -> Option<Event> {
        if self.transfers.by_op.is_empty() {
            return None;
        }
        let (id, received) = match self.events.front()? {
            Event::ServerResponse { id, response } => (*id, response.body.len() as u64),
            Event::Failed { id, .. } => {
                let id = *id;
                self.untrack(id);
                return None;
            }
            _ => return None,
        };
        let tr = self.untrack(id)?;
        let bytes = match tr.direction {
            TransferDirection::Upload => tr.total.unwrap_or(0),
            TransferDirection::Download => received,
        };
        Some(Event::Transfer(TransferProgress {
            id,
            direction: tr.direction,
            stage: TransferStage::Finished,
            bytes,
            total: Some(bytes),
        }))
    }

    fn untrack(&mut self, id: OpId) -> Option<Tracked> {
        self.transfers.requests.retain(|_, op| *op != id);
        self.transfers.by_op.remove(&id)
    }

    /// Whether the request with this id is an attachment transfer being reported (the driver
    /// passes byte counts on only for those).
    pub(crate) fn reports_transfer(&self, id: RequestId) -> bool {
        self.transfers.requests.contains_key(&id)
    }

    /// For transports that stream: `sent` request-body bytes written and `received`
    /// response-body bytes read so far for the [`Transmit`] with this id. A tracked attachment
    /// transfer then reports [`TransferStage::Bytes`] (in steps of 1 % of the total, at least
    /// 16 KiB, and at the end); anything else is ignored, so a transport may call it for every
    /// request.
    ///
    /// ```
    /// # use metaless_client::{Bootstrap, Client, Config, Event, UploadOptions, TransferStage};
    /// # use metaless_identity::{Keypair, Seed};
    /// use metaless_attachment::FileServer;
    /// let mut client = Client::new(Keypair::from_seed(&Seed::from_bytes([1; 32])),
    ///     Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None), [0; 32], 1_000);
    /// let up = client.upload_attachment(1_000, &FileServer::default_server(), &[1; 300_000],
    ///     UploadOptions::default()).unwrap();
    /// let events: Vec<Event> = std::iter::from_fn(|| client.poll_event()).collect();
    /// assert!(events.iter().any(|e| matches!(e,
    ///     Event::Transfer(p) if p.id == up.op() && p.stage == TransferStage::Started)));
    /// // No request of this client has id 99: ignored.
    /// client.report_transfer(metaless_client::RequestId::from(99), 1_000, 0);
    /// assert_eq!(client.poll_event(), None);
    /// ```
    pub fn report_transfer(&mut self, id: RequestId, sent: u64, received: u64) {
        let Some(op) = self.transfers.requests.get(&id).copied() else {
            return;
        };
        let Some(tr) = self.transfers.by_op.get_mut(&op) else {
            return;
        };
        let bytes = match tr.direction {
            TransferDirection::Upload => sent,
            TransferDirection::Download => received,
        };
        let at_end = tr.total.is_some_and(|t| bytes >= t);
        if bytes <= tr.reported || (bytes - tr.reported < step(tr.total) && !at_end) {
            return;
        }
        tr.reported = bytes;
        let event = TransferProgress {
            id: op,
            direction: tr.direction,
            stage: TransferStage::Bytes,
            bytes,
            total: tr.total,
        };
        self.events.push_back(Event::Transfer(event));
    }
}

fn to_server_request(dest: ServerDestination, req: FileRequest) -> ServerRequest {
    let mut out = ServerRequest::new(dest, req.method, &req.endpoint);
    for (k, v) in &req.headers {
        out = out.with_header(k, v);
    }
    if let Some(body) = req.body {
        out = out.with_body(body);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{Bootstrap, Config};
    use metaless_identity::Keypair;

    fn client(seed: u8) -> Client {
        Client::new(
            Keypair::from_seed(&Seed::from_bytes([seed; 32])),
            Config::testnet(Bootstrap::Seeds(vec![])).with_poll_interval_ms(None),
            [0; 32],
            1_000,
        )
    }

    fn reply(status: u16, body: Vec<u8>) -> ServerResponse {
        ServerResponse {
            status,
            headers: BTreeMap::new(),
            body,
        }
    }

    #[test]
    fn upload_pointer_download_decrypt() {
        let mut alice = client(1);
        let fs = FileServer::testnet();
        let data = vec![9u8; 50_000];
        let opts = UploadOptions {
            file_name: Some("a.bin".into()),
            content_type: Some("application/octet-stream".into()),
            ..UploadOptions::default()
        };
        let up = alice.upload_attachment(1_000, &fs, &data, opts).unwrap();
        let pointer = up
            .finish(&reply(200, br#"{"id":"12345","expires":99}"#.to_vec()))
            .unwrap();
        assert_eq!(pointer.id, 12345);
        assert_eq!(pointer.size, Some(50_000));
        assert_eq!(pointer.key.as_ref().unwrap().len(), 32);
        assert_eq!(
            pointer.url.as_deref(),
            Some(
                "http://superduperfiles.oxen.io/file/12345#p=929e33ded05e653fec04b49645117f51851f102a947e04806791be416ed76602&d"
            )
        );
        // What the server stored: deterministic, so the same encryption recomputed.
        let seed = Seed::from_bytes([1; 32]);
        let (blob, _) = encrypt(&seed, &data, Domain::Attachment, false).unwrap();

        let mut bob = client(2);
        let down = bob.download_attachment(2_000, &pointer).unwrap();
        assert_eq!(bob.pending_ops(), 1);
        assert_eq!(down.finish(&reply(200, blob.clone())).unwrap(), data);

        // gone, tampered, wrong size
        let down = bob.download_attachment(2_000, &pointer).unwrap();
        assert!(matches!(
            down.finish(&reply(404, vec![])),
            Err(ClientError::InvalidRequest(_))
        ));
        let mut bad = blob.clone();
        bad[100] ^= 1;
        let down = bob.download_attachment(2_000, &pointer).unwrap();
        assert!(down.finish(&reply(200, bad)).is_err());
        let mut short = pointer.clone();
        short.size = Some(10);
        let down = bob.download_attachment(2_000, &short).unwrap();
        assert!(down.finish(&reply(200, blob)).is_err());
    }

    #[test]
    fn legacy_pointer_downloads() {
        let key = LegacyKey::from_bytes([3; 64]);
        let out = metaless_attachment::encrypt_legacy(&key, [4; 16], b"old client file", true);
        let mut p = AttachmentPointer::new(
            "http://filev2.getsession.org/file/777",
            SecretBytes::new(key.expose_secret().to_vec()),
            15,
        );
        p.digest = Some(out.digest.to_vec());
        let mut bob = client(2);
        let down = bob.download_attachment(1_000, &p).unwrap();
        assert_eq!(
            down.finish(&reply(200, out.blob.clone())).unwrap(),
            b"old client file"
        );
        p.digest = None;
        let down = bob.download_attachment(1_000, &p).unwrap();
        assert!(down.finish(&reply(200, out.blob)).is_err());
        p.url = Some("http://example.com/not/a/file".into());
        assert!(bob.download_attachment(1_000, &p).is_err());
    }

    #[test]
    fn transport_reports_become_rate_limited_byte_events() {
        let net = metaless_testnet::LoopbackNet::new(metaless_testnet::LoopbackConfig {
            nodes: 8,
            swarms: 2,
            ..Default::default()
        })
        .unwrap();
        let mut config = Config::testnet(Bootstrap::Nodes(metaless_testnet::service_nodes(&net)));
        config.poll_interval_ms = None;
        let mut c = Client::new(
            Keypair::from_seed(&Seed::from_bytes([1; 32])),
            config,
            [0; 32],
            1_000,
        );
        let data = vec![5u8; 1_000_000];
        let up = c
            .upload_attachment(
                1_000,
                &FileServer::testnet(),
                &data,
                UploadOptions::default(),
            )
            .unwrap();
        let t = c.poll_transmit().unwrap();
        let total = t.body.len() as u64;
        let mut seen = Vec::new();
        let drain = |c: &mut Client, seen: &mut Vec<TransferProgress>| {
            while let Some(e) = c.poll_event() {
                if let Event::Transfer(p) = e {
                    assert_eq!(p.id, up.op());
                    seen.push(p);
                }
            }
        };
        drain(&mut c, &mut seen);
        assert_eq!(
            seen.iter().map(|p| p.stage).collect::<Vec<_>>(),
            [TransferStage::Started, TransferStage::Sent { attempt: 1 }]
        );
        seen.clear();
        // 1 % of ~1 MB is ~10 KB, under the 16 KiB floor: steps below 16 KiB are not reported.
        for sent in (0..=total).step_by(1_000) {
            c.report_transfer(t.id, sent, 0);
        }
        c.report_transfer(t.id, total, 0);
        // Received bytes do not count for an upload; a repeat changes nothing.
        c.report_transfer(t.id, total, 500);
        drain(&mut c, &mut seen);
        assert!(
            seen.iter()
                .all(|p| p.stage == TransferStage::Bytes && p.total == Some(total))
        );
        assert!(
            seen.windows(2)
                .all(|w| w[1].bytes - w[0].bytes >= 16 * 1024 || w[1].bytes == total)
        );
        assert_eq!(
            seen.last().map(|p| (p.bytes, p.percent())),
            Some((total, Some(100)))
        );
        let n = seen.len() as u64;
        assert!(
            n >= total / (17 * 1024) && n <= total / (16 * 1024) + 1,
            "{n} events"
        );
        seen.clear();
        // The request times out: retried on another path, counted from 0 again; the old
        // request's id no longer reports.
        c.handle_timeout(t.deadline_ms);
        // (after the back-off)
        let t2 = loop {
            if let Some(t2) = c.poll_transmit() {
                break t2;
            }
            let at = c.poll_timeout().unwrap();
            c.handle_timeout(at);
        };
        c.report_transfer(t.id, total, 0);
        c.report_transfer(t2.id, 20_000, 0);
        drain(&mut c, &mut seen);
        assert_eq!(
            seen.iter().map(|p| (p.stage, p.bytes)).collect::<Vec<_>>(),
            [
                (TransferStage::Sent { attempt: 2 }, 0),
                (TransferStage::Bytes, 20_000)
            ]
        );
    }

    #[test]
    fn oversize_upload_refused() {
        let mut alice = client(1);
        let big = vec![0u8; 10_218_287];
        assert!(matches!(
            alice.upload_attachment(
                1_000,
                &FileServer::default_server(),
                &big,
                UploadOptions::default()
            ),
            Err(ClientError::TooLarge { .. })
        ));
    }
}
