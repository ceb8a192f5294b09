//! Attachments: encrypt → upload to a file server through an onion path → an
//! [`AttachmentPointer`] to put into a message; and pointer → download → decrypt. The client is
//! a state machine, so each is two steps: the start call queues a
//! [`server_request`](Client::server_request) and returns a pending value; hand it the
//! [`Event::ServerResponse`](crate::Event::ServerResponse) with the same op id to finish.
//! Byte formats: `metaless-attachment`, `docs/attachments.md`.

use metaless_attachment::{
    AttachmentKey, Domain, FileRequest, FileServer, FileUrl, LegacyKey, Scheme, decrypt,
    decrypt_legacy, download_reply_parts, encrypt, upload_reply_parts,
};
use metaless_envelope::{AttachmentPointer, SecretBytes};
use metaless_identity::Seed;
use metaless_onion::{Destination, ServerDestination};

use super::Client;
use super::server::{ServerRequest, ServerResponse};
use crate::{ClientError, OpId};

/// Uploads at or above this size are worth a progress display (the encrypted size is known up
/// front: [`metaless_attachment::encrypted_size`]).
pub const PROGRESS_THRESHOLD: usize = 256 * 1024;

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
    ///     Config { poll_interval_ms: None, ..Config::testnet(Bootstrap::Seeds(vec![])) }, [0; 32], 1_000);
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
        Ok(AttachmentDownload {
            op,
            scheme,
            key: SecretBytes::new(key.expose_secret().to_vec()),
            digest: pointer.digest.clone(),
            size: pointer.size,
        })
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
            Config {
                poll_interval_ms: None,
                ..Config::testnet(Bootstrap::Seeds(vec![]))
            },
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
