//! A community server reading a request: the v4 payload decoder and the X-SOGS-* check never
//! panic on arbitrary bytes; the four header values come from the payload's headers, or from
//! the input split at newlines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_community::{ReceivedAuth, auth};
use metaless_identity::SessionId;

struct Ctx;
impl auth::AuthContext for Ctx {
    fn require_blind(&self) -> bool {
        false
    }
    fn is_banned(&mut self, _: &SessionId) -> bool {
        false
    }
    fn record_nonce(&mut self, _: &SessionId, _: &[u8; 16]) -> bool {
        true
    }
}

fuzz_target!(|data: &[u8]| {
    let server = [7u8; 32];
    if let Ok(req) = metaless_onion::v4::decode_request(data) {
        let h = |k: &str| req.headers.get(k).map(String::as_str);
        let got = ReceivedAuth {
            pubkey: h("X-SOGS-Pubkey"),
            nonce: h("X-SOGS-Nonce"),
            timestamp: h("X-SOGS-Timestamp"),
            signature: h("X-SOGS-Signature"),
        };
        let _ = auth::verify(
            &server,
            &got,
            &req.method,
            &req.endpoint,
            req.body.unwrap_or(b""),
            1_700_000_000,
            &mut Ctx,
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let mut parts = text.splitn(7, '\n');
        let got = ReceivedAuth {
            pubkey: parts.next(),
            nonce: parts.next(),
            timestamp: parts.next(),
            signature: parts.next(),
        };
        let method = parts.next().unwrap_or("GET");
        let path = parts.next().unwrap_or("/");
        let body = parts.next().unwrap_or("");
        let _ = auth::verify(
            &server,
            &got,
            method,
            path,
            body.as_bytes(),
            u64::MAX,
            &mut Ctx,
        );
        let _ = auth::verify(&server, &got, method, path, body.as_bytes(), 0, &mut Ctx);
    }
});
