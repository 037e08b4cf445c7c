//! Session ids: 20 URL-safe characters from 15 CSPRNG bytes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// A new session id: 15 bytes from the OS CSPRNG, URL-safe base64 (`-`,
/// `_`), exactly 20 characters. Unlike Node's ids there is no counter part:
/// every bit is random, so ids reveal nothing about the server.
pub(crate) fn generate_sid() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 15];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_url_safe_chars_and_distinct() {
        let a = generate_sid().unwrap();
        let b = generate_sid().unwrap();
        assert_eq!(a.len(), 20);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }
}
