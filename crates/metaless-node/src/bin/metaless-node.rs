//! `metaless-node`: runs a local testnet from a directory made by `metaless testnet init`.

fn main() {}
