//! Community URLs: `http[s]://host[:port]/<room>?public_key=<key>`.
//!
//! The parser follows libsession-util's `community::parse_full_url`: the key is read from the
//! last `?public_key=` (64 hex, 43/44 base64 or 52 base32z characters), the room from the last
//! `/r/<room>` (the legacy web form) or `/<room>`, and what is left is the base URL, whose scheme
//! and host are lower-cased and whose default port is dropped. A URL without a scheme is `http`.

use alloc::string::String;
use core::fmt;

use base64::Engine;
use metaless_onion::ServerDestination;

use crate::CommunityError;
use crate::limits::{MAX_BASE_URL_LEN, MAX_ROOM_TOKEN_LEN};

const QS_PUBKEY: &str = "?public_key=";
const BASE32Z: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";

/// A parsed community URL: the server (scheme, host, port), its X25519 key and one room.
///
/// ```
/// use metaless_community::CommunityUrl;
/// let key = "a03c383cf63c3c4efe67acc52112a6dd734b3a946b9545f488aaa93da7991238";
/// let url = CommunityUrl::parse(&format!("HTTPS://Open.GetSession.org:443/r/session?public_key={key}")).unwrap();
/// assert_eq!(url.base_url(), "https://open.getsession.org");
/// assert_eq!(url.room(), "session");
/// assert_eq!(url.full_url(), format!("https://open.getsession.org/session?public_key={key}"));
/// assert_eq!(url.port(), 443);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CommunityUrl {
    https: bool,
    host: String,
    port: Option<u16>,
    room: String,
    server_pk: [u8; 32],
}

impl CommunityUrl {
    /// Parses a full community URL (the key is required).
    ///
    /// ```
    /// use metaless_community::{CommunityError, CommunityUrl};
    /// let url = CommunityUrl::parse("127.0.0.1:8080/lobby?public_key=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    /// assert_eq!(url.base_url(), "http://127.0.0.1:8080");
    /// assert_eq!(url.server_pk(), &[0u8; 32]);
    /// assert_eq!(CommunityUrl::parse("https://h/bad room?public_key=00"), Err(CommunityError::Url("public key")));
    /// ```
    pub fn parse(text: &str) -> Result<Self, CommunityError> {
        let text = text.trim();
        if text.len() > MAX_BASE_URL_LEN + MAX_ROOM_TOKEN_LEN + 4 + QS_PUBKEY.len() + 64 {
            return Err(CommunityError::Url("too long"));
        }
        let pos = text
            .rfind(QS_PUBKEY)
            .ok_or(CommunityError::Url("no public_key"))?;
        let server_pk = decode_pubkey(&text[pos + QS_PUBKEY.len()..])?;
        let rest = &text[..pos];
        // Skip the scheme before looking for the room's slash.
        let after_scheme = rest.find("://").map_or(0, |i| i + 3);
        let (base, room) = if let Some(i) = rest[after_scheme..].rfind("/r/") {
            let i = after_scheme + i;
            (&rest[..i], &rest[i + 3..])
        } else if let Some(i) = rest[after_scheme..].rfind('/') {
            let i = after_scheme + i;
            (&rest[..i], &rest[i + 1..])
        } else {
            return Err(CommunityError::Url("no room"));
        };
        check_room(room)?;
        let (https, host, port) = parse_base(base)?;
        Ok(Self {
            https,
            host,
            port,
            room: room.into(),
            server_pk,
        })
    }

    /// Builds a URL from parts: `base` is `scheme://host[:port]`.
    ///
    /// ```
    /// use metaless_community::CommunityUrl;
    /// let url = CommunityUrl::new("http://10.0.0.1:80", "Lobby", [7; 32]).unwrap();
    /// assert_eq!(url.base_url(), "http://10.0.0.1");
    /// assert!(CommunityUrl::new("http://h/x", "Lobby", [7; 32]).is_err());
    /// ```
    pub fn new(base: &str, room: &str, server_pk: [u8; 32]) -> Result<Self, CommunityError> {
        check_room(room)?;
        let (https, host, port) = parse_base(base)?;
        Ok(Self {
            https,
            host,
            port,
            room: room.into(),
            server_pk,
        })
    }

    /// `scheme://host[:port]`, the port only when it is not the scheme's default.
    pub fn base_url(&self) -> String {
        match self.port {
            Some(port) => alloc::format!("{}://{}:{port}", self.scheme(), self.host),
            None => alloc::format!("{}://{}", self.scheme(), self.host),
        }
    }

    /// The canonical full URL: `<base>/<room>?public_key=<hex>`.
    pub fn full_url(&self) -> String {
        alloc::format!(
            "{}/{}{QS_PUBKEY}{}",
            self.base_url(),
            self.room,
            metaless_identity::hex::encode(&self.server_pk)
        )
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// The host name or address (lower-case).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port requests go to (the scheme's default when the URL names none).
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// The room token as written in the URL (servers compare tokens as given).
    pub fn room(&self) -> &str {
        &self.room
    }

    /// The server's X25519 public key (onion destination, blinding input, first 32 signed bytes).
    pub fn server_pk(&self) -> &[u8; 32] {
        &self.server_pk
    }

    /// The same server with another room.
    ///
    /// ```
    /// use metaless_community::CommunityUrl;
    /// let url = CommunityUrl::new("https://h", "a", [1; 32]).unwrap().with_room("b").unwrap();
    /// assert_eq!(url.room(), "b");
    /// ```
    pub fn with_room(mut self, room: &str) -> Result<Self, CommunityError> {
        check_room(room)?;
        self.room = room.into();
        Ok(self)
    }

    /// The onion destination of this server (`/oxen/v4/lsrpc` on its host and port, its key).
    ///
    /// ```
    /// use metaless_community::CommunityUrl;
    /// let url = CommunityUrl::new("http://127.0.0.1:3000", "r", [1; 32]).unwrap();
    /// let dest = url.destination().unwrap();
    /// assert_eq!((dest.host(), dest.port(), dest.protocol()), ("127.0.0.1", 3000, "http"));
    /// ```
    pub fn destination(&self) -> Result<ServerDestination, CommunityError> {
        Ok(ServerDestination::new(
            &self.host,
            self.port(),
            self.scheme(),
            self.server_pk,
        )?)
    }
}

impl fmt::Display for CommunityUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full_url())
    }
}

impl fmt::Debug for CommunityUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CommunityUrl")
            .field(&self.full_url())
            .finish()
    }
}

impl core::str::FromStr for CommunityUrl {
    type Err = CommunityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Checks a room token: 1 to 64 of `[0-9A-Za-z_-]`.
///
/// ```
/// assert!(metaless_community::check_room("my-room_1").is_ok());
/// assert!(metaless_community::check_room("../x").is_err());
/// ```
pub fn check_room(room: &str) -> Result<(), CommunityError> {
    let ok = !room.is_empty()
        && room.len() <= MAX_ROOM_TOKEN_LEN
        && room
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if ok {
        Ok(())
    } else {
        Err(CommunityError::RoomToken)
    }
}

fn parse_base(base: &str) -> Result<(bool, String, Option<u16>), CommunityError> {
    let lower = base.to_ascii_lowercase();
    let (https, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else if lower.contains("://") {
        return Err(CommunityError::Url("scheme"));
    } else {
        (false, lower.as_str())
    };
    if rest.contains('/') {
        return Err(CommunityError::Url("unexpected path"));
    }
    // An IPv6 literal keeps its colons inside the brackets.
    let (host, port) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains(']') => {
            let port: u16 = rest[i + 1..]
                .parse()
                .map_err(|_| CommunityError::Url("port"))?;
            (&rest[..i], Some(port))
        }
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.bytes().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        });
    if !host_ok {
        return Err(CommunityError::Url("host"));
    }
    let default = if https { 443 } else { 80 };
    let port = port.filter(|&p| p != default);
    if port == Some(0) {
        return Err(CommunityError::Url("port"));
    }
    let result = (https, String::from(host), port);
    let len = "https://".len() + host.len() + 6;
    if len > MAX_BASE_URL_LEN + 6 {
        return Err(CommunityError::Url("base URL too long"));
    }
    Ok(result)
}

/// Decodes a server key written as 64 hex, 43/44 base64 or 52 base32z characters.
fn decode_pubkey(text: &str) -> Result<[u8; 32], CommunityError> {
    let bad = CommunityError::Url("public key");
    match text.len() {
        64 => metaless_identity::hex::decode_array(text).map_err(|_| bad),
        43 | 44 => {
            let bytes = if text.len() == 44 {
                base64::engine::general_purpose::STANDARD.decode(text)
            } else {
                base64::engine::general_purpose::STANDARD_NO_PAD.decode(text)
            }
            .map_err(|_| bad.clone())?;
            bytes.try_into().map_err(|_| bad)
        }
        52 => {
            let mut out = [0u8; 32];
            let mut acc: u32 = 0;
            let mut bits = 0;
            let mut n = 0;
            for c in text.bytes() {
                let v = BASE32Z
                    .iter()
                    .position(|&a| a == c.to_ascii_lowercase())
                    .ok_or(bad.clone())? as u32;
                acc = (acc << 5) | v;
                bits += 5;
                if bits >= 8 {
                    bits -= 8;
                    if n < 32 {
                        out[n] = (acc >> bits) as u8;
                    }
                    n += 1;
                    acc &= (1 << bits) - 1;
                }
            }
            // 260 bits: 32 bytes and 4 bits that must be zero.
            if n != 32 || acc != 0 {
                return Err(bad);
            }
            Ok(out)
        }
        _ => Err(bad),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEX: &str = "a03c383cf63c3c4efe67acc52112a6dd734b3a946b9545f488aaa93da7991238";

    #[test]
    fn forms_agree() {
        let pk: [u8; 32] = metaless_identity::hex::decode_array(HEX).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(pk);
        let b64np = base64::engine::general_purpose::STANDARD_NO_PAD.encode(pk);
        for text in [
            alloc::format!("https://open.getsession.org/session?public_key={HEX}"),
            alloc::format!("https://open.getsession.org/r/session?public_key={HEX}"),
            alloc::format!("HTTPS://OPEN.getsession.org:443/session?public_key={b64}"),
            alloc::format!("https://open.getsession.org/session?public_key={b64np}"),
        ] {
            let url = CommunityUrl::parse(&text).unwrap();
            assert_eq!(url.server_pk(), &pk, "{text}");
            assert_eq!(
                url.full_url(),
                alloc::format!("https://open.getsession.org/session?public_key={HEX}")
            );
        }
    }

    #[test]
    fn base32z_key() {
        // A known base32z encoding of 32 zero bytes is 52 'y's.
        let url = CommunityUrl::parse(&alloc::format!("http://h/r?public_key={}", "y".repeat(52)))
            .unwrap();
        assert_eq!(url.server_pk(), &[0u8; 32]);
        // Non-zero trailing bits are refused.
        let mut text = "y".repeat(51);
        text.push('b');
        assert!(CommunityUrl::parse(&alloc::format!("http://h/r?public_key={text}")).is_err());
    }

    #[test]
    fn ports_and_ipv6() {
        let url =
            CommunityUrl::parse(&alloc::format!("http://[::1]:8080/r?public_key={HEX}")).unwrap();
        assert_eq!((url.host(), url.port()), ("[::1]", 8080));
        let url =
            CommunityUrl::parse(&alloc::format!("http://host:80/r?public_key={HEX}")).unwrap();
        assert_eq!(url.base_url(), "http://host");
        assert_eq!(url.port(), 80);
    }

    #[test]
    fn refusals() {
        for text in [
            "https://h/room".to_string(),
            alloc::format!("https://h?public_key={HEX}"),
            alloc::format!("https://h/a/b?public_key={HEX}"),
            alloc::format!("https://h/room?public_key={}", &HEX[..63]),
            alloc::format!("ftp://h/room?public_key={HEX}"),
            alloc::format!("https://h:99999/room?public_key={HEX}"),
            alloc::format!("https://h/{}?public_key={HEX}", "x".repeat(65)),
            alloc::format!("https:///room?public_key={HEX}"),
            alloc::format!("https://h/ro%20om?public_key={HEX}"),
        ] {
            assert!(CommunityUrl::parse(&text).is_err(), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn round_trip(room in "[0-9A-Za-z_-]{1,64}", host in "[a-z0-9]{1,20}(\\.[a-z]{2,5})?", port: u16, https: bool, pk: [u8; 32]) {
            let scheme = if https { "https" } else { "http" };
            let port = port.max(1);
            let text = alloc::format!("{scheme}://{host}:{port}/{room}?public_key={}", metaless_identity::hex::encode(&pk));
            let url = CommunityUrl::parse(&text).unwrap();
            proptest::prop_assert_eq!(url.room(), room.as_str());
            proptest::prop_assert_eq!(url.port(), port);
            proptest::prop_assert_eq!(CommunityUrl::parse(&url.full_url()).unwrap(), url);
        }

        #[test]
        fn never_panics(text in ".{0,300}") {
            let _ = CommunityUrl::parse(&text);
        }
    }
}
