//! (being written: see issue 18 item 1)
