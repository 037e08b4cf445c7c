//! permessage-deflate negotiation (RFC 7692 §5, §7.1): reads the client's
//! offers from `Sec-WebSocket-Extensions`, accepts the first one the
//! server's [`PerMessageDeflate`] settings can meet, and writes the
//! response header. Offers with unknown or repeated parameters, or invalid
//! values, are declined (the next offer is tried; with none left the socket
//! runs uncompressed).

use http::header::{HeaderMap, HeaderValue, SEC_WEBSOCKET_EXTENSIONS};

use crate::config::PerMessageDeflate;

/// What both sides agreed on, with the server's own settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// The server starts each message with an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts each message with an empty window (the server
    /// then drops its inflate context between messages).
    pub client_no_context_takeover: bool,
    /// LZ77 window of the server's compressor (9 to 15).
    pub server_window_bits: u8,
    /// The window the client was told to stay within, if any (the server
    /// inflates with a 15-bit window, which reads any smaller one).
    pub client_window_bits: Option<u8>,
    /// Messages shorter than this go uncompressed.
    pub threshold: usize,
    /// zlib level, 0 to 9.
    pub level: u32,
}

impl Agreed {
    /// The `Sec-WebSocket-Extensions` value of the 101.
    pub fn response_header(&self, offered_server_bits: bool) -> String {
        let mut v = String::from("permessage-deflate");
        if self.server_no_context_takeover {
            v.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            v.push_str("; client_no_context_takeover");
        }
        if offered_server_bits || self.server_window_bits < 15 {
            v.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_window_bits
            ));
        }
        if let Some(bits) = self.client_window_bits {
            v.push_str(&format!("; client_max_window_bits={bits}"));
        }
        v
    }
}

/// One parsed offer's parameters.
#[derive(Debug, Default)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    /// `Some(Some(n))`: with a value; `Some(None)`: without one.
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<Option<u8>>,
}

/// Negotiates permessage-deflate for a request: the agreement and the
/// response header value, or `None` (no offer, or none acceptable).
pub fn negotiate(
    headers: &HeaderMap,
    settings: &PerMessageDeflate,
) -> Option<(Agreed, HeaderValue)> {
    let joined = headers
        .get_all(SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    for ext in split_outside_quotes(&joined, ',') {
        let mut parts = split_outside_quotes(ext, ';').into_iter();
        let name = parts.next().map(str::trim).unwrap_or_default();
        if !name.eq_ignore_ascii_case("permessage-deflate") {
            continue;
        }
        let Some(offer) = parse_offer(parts) else {
            continue; // declined: try the next offer
        };
        if let Some(agreed) = accept(&offer, settings) {
            let header = agreed.response_header(offer.server_max_window_bits.is_some());
            if let Ok(value) = HeaderValue::from_str(&header) {
                return Some((agreed, value));
            }
        }
    }
    None
}

/// Parses an offer's parameters; `None` when one is unknown, repeated or
/// has an invalid value (RFC 7692 §5: such an offer is declined).
fn parse_offer<'a>(params: impl Iterator<Item = &'a str>) -> Option<Offer> {
    let mut offer = Offer::default();
    let mut seen = [false; 4];
    for param in params {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(unquote(v.trim())?)),
            None => (param.trim(), None),
        };
        let index = match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" if value.is_none() => {
                offer.server_no_context_takeover = true;
                0
            }
            "client_no_context_takeover" if value.is_none() => {
                offer.client_no_context_takeover = true;
                1
            }
            "server_max_window_bits" => {
                offer.server_max_window_bits = Some(window_bits(value?)?);
                2
            }
            "client_max_window_bits" => {
                offer.client_max_window_bits = Some(match value {
                    Some(v) => Some(window_bits(v)?),
                    None => None,
                });
                3
            }
            _ => return None,
        };
        let slot = seen.get_mut(index)?;
        if *slot {
            return None;
        }
        *slot = true;
    }
    Some(offer)
}

/// A window size: a decimal 8 to 15 without leading zeros.
fn window_bits(v: &str) -> Option<u8> {
    if v.starts_with('0') || v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u8>().ok().filter(|n| (8..=15).contains(n))
}

/// A token or quoted-string value, unquoted.
fn unquote(v: &str) -> Option<&str> {
    match v.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"').filter(|s| !s.contains('"')),
        None => Some(v),
    }
}

/// Splits on `sep` outside double quotes.
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                out.push(s.get(start..i).unwrap_or_default());
                start = i.saturating_add(1);
            }
            _ => {}
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out
}

/// Whether the server can meet `offer`; the agreement if so.
fn accept(offer: &Offer, settings: &PerMessageDeflate) -> Option<Agreed> {
    let own_server_bits = settings.server_max_window_bits.unwrap_or(15).clamp(9, 15);
    let server_window_bits = match offer.server_max_window_bits {
        // zlib cannot write raw deflate with a 256-byte window.
        Some(8) => return None,
        Some(n) => n.min(own_server_bits),
        None => own_server_bits,
    };
    let client_window_bits = match (
        offer.client_max_window_bits,
        settings.client_max_window_bits,
    ) {
        // The client allows the parameter: tell it our limit, if any.
        (Some(offered), Some(own)) => Some(own.clamp(8, 15).min(offered.unwrap_or(15))),
        (Some(_), None) | (None, _) => None,
    };
    Some(Agreed {
        server_no_context_takeover: offer.server_no_context_takeover
            || settings.server_no_context_takeover,
        client_no_context_takeover: offer.client_no_context_takeover
            || settings.client_no_context_takeover,
        server_window_bits,
        client_window_bits,
        threshold: settings.threshold,
        level: settings.level.min(9),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neg(offers: &[&str], settings: &PerMessageDeflate) -> Option<String> {
        let mut h = HeaderMap::new();
        for o in offers {
            h.append(SEC_WEBSOCKET_EXTENSIONS, HeaderValue::from_str(o).unwrap());
        }
        negotiate(&h, settings).map(|(_, v)| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn offers_and_answers() {
        let d = PerMessageDeflate::default();
        let cases: &[(&[&str], Option<&str>)] = &[
            (&[], None),
            (&["x-webkit-deflate-frame"], None),
            (&["permessage-deflate"], Some("permessage-deflate")),
            // What ws and Chromium offer.
            (
                &["permessage-deflate; client_max_window_bits"],
                Some("permessage-deflate"),
            ),
            (
                &["permessage-deflate; server_max_window_bits=10"],
                Some("permessage-deflate; server_max_window_bits=10"),
            ),
            (
                &["permessage-deflate; server_no_context_takeover; client_no_context_takeover"],
                Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ),
            (
                &["permessage-deflate; server_max_window_bits=\"12\""],
                Some("permessage-deflate; server_max_window_bits=12"),
            ),
            // Declined: 8 bits (zlib cannot), bad values, unknown or repeated
            // parameters; the next offer is taken instead.
            (&["permessage-deflate; server_max_window_bits=8"], None),
            (&["permessage-deflate; server_max_window_bits"], None),
            (&["permessage-deflate; server_max_window_bits=16"], None),
            (&["permessage-deflate; server_max_window_bits=010"], None),
            (&["permessage-deflate; client_max_window_bits=7"], None),
            (&["permessage-deflate; foo"], None),
            (&["permessage-deflate; server_no_context_takeover=1"], None),
            (
                &["permessage-deflate; client_no_context_takeover; client_no_context_takeover"],
                None,
            ),
            (
                &["permessage-deflate; server_max_window_bits=8, permessage-deflate"],
                Some("permessage-deflate"),
            ),
            (
                &[
                    "permessage-deflate; foo=1",
                    "permessage-deflate; server_max_window_bits=9",
                ],
                Some("permessage-deflate; server_max_window_bits=9"),
            ),
        ];
        for (offers, want) in cases {
            assert_eq!(neg(offers, &d).as_deref(), *want, "{offers:?}");
        }
    }

    #[test]
    fn server_settings_shape_the_answer() {
        let s = PerMessageDeflate {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(12),
            client_max_window_bits: Some(10),
            ..PerMessageDeflate::default()
        };
        assert_eq!(
            neg(&["permessage-deflate; client_max_window_bits"], &s).as_deref(),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=12; client_max_window_bits=10"
            )
        );
        // The client's smaller limits win.
        assert_eq!(
            neg(
                &["permessage-deflate; server_max_window_bits=9; client_max_window_bits=9"],
                &s
            )
            .as_deref(),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=9"
            )
        );
    }
}
