//! Reading the storage RPC replies the client acts on. Thin on purpose: only the fields the
//! client uses are read, everything else is ignored (nodes add fields over time).

use serde_json::Value;

/// One message from a `retrieve` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Retrieved {
    pub(crate) hash: String,
    pub(crate) expiry_ms: u64,
    pub(crate) data: Vec<u8>,
}

/// A `retrieve` reply.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RetrieveReply {
    pub(crate) messages: Vec<Retrieved>,
    pub(crate) more: bool,
    /// Entries skipped as malformed.
    pub(crate) skipped: usize,
}

pub(crate) fn parse_object(body: &str) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_str(body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// The node's clock (`t`, ms) from any JSON reply body.
pub(crate) fn network_time(body: &serde_json::Map<String, Value>) -> Option<u64> {
    body.get("t")
        .and_then(Value::as_u64)
        .or_else(|| body.get("timestamp").and_then(Value::as_u64))
}

/// The hash a `store` reply names (top level, as upstream adds it).
pub(crate) fn store_hash(body: &serde_json::Map<String, Value>) -> Option<String> {
    body.get("hash").and_then(Value::as_str).map(str::to_owned)
}

/// Messages of a `retrieve` reply: `{"messages": [{"hash", "expiration", "data", …}], "more"}`.
pub(crate) fn retrieve(body: &serde_json::Map<String, Value>) -> Option<RetrieveReply> {
    let list = body.get("messages")?.as_array()?;
    let mut out = RetrieveReply {
        more: body.get("more").and_then(Value::as_bool).unwrap_or(false),
        ..Default::default()
    };
    for m in list {
        let hash = m.get("hash").and_then(Value::as_str);
        let expiry = m
            .get("expiration")
            .or_else(|| m.get("expiry"))
            .and_then(Value::as_u64);
        let data = m
            .get("data")
            .and_then(Value::as_str)
            .and_then(|d| metaless_swarm::b64::decode(d.as_bytes()));
        match (hash, expiry, data) {
            (Some(hash), Some(expiry_ms), Some(data))
                if metaless_swarm::MessageHash::parse(hash).is_ok() =>
            {
                out.messages.push(Retrieved {
                    hash: hash.to_owned(),
                    expiry_ms,
                    data,
                });
            }
            _ => out.skipped += 1,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retrieve_reads_good_entries_and_counts_bad_ones() {
        let h = "A".repeat(43);
        let body = format!(
            r#"{{"messages":[{{"hash":"{h}","expiration":5,"data":"aGk=","timestamp":1}},{{"hash":"x","expiration":1,"data":"aGk="}},{{"hash":"{h}"}}],"more":true,"t":77}}"#
        );
        let obj = parse_object(&body).unwrap();
        let r = retrieve(&obj).unwrap();
        assert_eq!(
            r.messages,
            vec![Retrieved {
                hash: h,
                expiry_ms: 5,
                data: b"hi".to_vec()
            }]
        );
        assert_eq!(r.skipped, 2);
        assert!(r.more);
        assert_eq!(network_time(&obj), Some(77));
    }

    #[test]
    fn non_objects_are_refused() {
        assert!(parse_object("[1]").is_none());
        assert!(parse_object("not json").is_none());
        assert!(retrieve(&parse_object("{}").unwrap()).is_none());
    }
}
