//! The Engine.IO query parameters of a request (docs/protocol.md §1.1).

/// What the engine reads from a request's query string. Values are taken
/// raw (session ids and the other values never need percent-encoding); the
/// first occurrence of a key wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EngineQuery<'a> {
    /// `EIO`.
    pub eio: Option<&'a str>,
    /// `transport`.
    pub transport: Option<&'a str>,
    /// `sid`.
    pub sid: Option<&'a str>,
    /// `b64` present with any value other than `0`/`false`.
    pub b64: bool,
}

impl<'a> EngineQuery<'a> {
    /// Parses `a=b&c=d`; at most `MAX_PAIRS` pairs are looked at.
    pub(crate) fn parse(query: &'a str) -> Self {
        const MAX_PAIRS: usize = 64;
        let mut q = EngineQuery::default();
        for pair in query.split('&').take(MAX_PAIRS) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "EIO" if q.eio.is_none() => q.eio = Some(value),
                "transport" if q.transport.is_none() => q.transport = Some(value),
                "sid" if q.sid.is_none() => q.sid = Some(value),
                "b64" => q.b64 = !matches!(value, "0" | "false"),
                _ => {}
            }
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_engine_keys() {
        let q = EngineQuery::parse("EIO=4&transport=polling&t=N8hyd6w&sid=abc&b64=1");
        assert_eq!(
            q,
            EngineQuery {
                eio: Some("4"),
                transport: Some("polling"),
                sid: Some("abc"),
                b64: true
            }
        );
        let q = EngineQuery::parse("transport=websocket&transport=polling&EIO");
        assert_eq!(q.transport, Some("websocket"));
        assert_eq!(q.eio, Some(""));
        assert_eq!(EngineQuery::parse(""), EngineQuery::default());
    }
}
