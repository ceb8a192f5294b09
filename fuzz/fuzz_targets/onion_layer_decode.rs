//! Layer framing, metadata JSON and v4 framing on arbitrary bytes: never panics, and whatever
//! decodes is a view of the input within the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_onion::limits::{MAX_LAYER_SIZE, MAX_ROUTING_JSON_SIZE};
use metaless_onion::{HopError, decode_layer, v4};

fuzz_target!(|data: &[u8]| {
    if let Ok(layer) = decode_layer(data) {
        assert!(layer.ciphertext.len() <= MAX_LAYER_SIZE);
        assert_eq!(
            data.get(4..4 + layer.ciphertext.len()),
            Some(layer.ciphertext)
        );
        assert!(data.len() - 4 - layer.ciphertext.len() <= MAX_ROUTING_JSON_SIZE);
    }
    if let Ok(req) = v4::decode_request(data) {
        assert!(req.endpoint.starts_with('/'));
        let body = req.body.map(<[u8]>::to_vec);
        let headers: Vec<(&str, &str)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let again = v4::encode_request(&req.method, &req.endpoint, &headers, body.as_deref());
        assert!(v4::decode_request(&again).is_ok());
    }
    if let Ok(resp) = v4::decode_response(data) {
        let headers: Vec<(&str, &str)> = resp
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let again = v4::encode_response(resp.code, &headers, resp.body);
        assert_eq!(
            v4::decode_response(&again).map(|r| (r.code, r.body)),
            Ok((resp.code, resp.body))
        );
    }
    if data.len() >= 2 {
        let status = u16::from_le_bytes([data[0], data[1]]);
        let text = String::from_utf8_lossy(&data[2..]);
        let err = HopError::from_response(status, &text);
        assert_eq!(err.status(), status);
    }
});
