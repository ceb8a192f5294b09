//! (being written: issue 18 item 1)

fn main() {}
