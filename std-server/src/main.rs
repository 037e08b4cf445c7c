//! The oxio demo server. The Socket.IO server itself is still being built;
//! until it lands this binary only reports that.

fn main() {
    eprintln!(
        "oxio-server {}: the Socket.IO server is not built yet; only oxio-codec is available",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
