//! Download-URL parsing and the file-server reply parsers on arbitrary input: no panic, and a
//! URL that parses regenerates to one that parses to the same file and flag.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metaless_attachment::{FileUrl, parse_download_reply, parse_meta_reply, parse_upload_reply};

fuzz_target!(|data: &[u8]| {
    let _ = parse_upload_reply(data);
    let _ = parse_meta_reply(data);
    let _ = parse_download_reply(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(url) = FileUrl::parse(text) else { return };
    let _ = url.scheme_for_key(32);
    let _ = url.deprecated_id();
    if let Ok(server) = url.server() {
        let again = FileUrl::parse(&server.download_url(&url.file_id, url.is_stream()))
            .expect("a generated URL parses");
        assert_eq!(again.file_id, url.file_id);
        assert_eq!(again.is_stream(), url.is_stream());
    }
});
