//! CORS headers, as the npm `cors` middleware writes them (docs/protocol.md §1.11).

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};

use crate::config::{Cors, CorsOrigins};

/// The methods a preflight allows (the npm `cors` default).
const ALLOW_METHODS: &str = "GET,HEAD,PUT,PATCH,POST,DELETE";

/// Adds the CORS headers for a request with `origin` to `headers`.
pub(crate) fn apply(cors: &Cors, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
    let mut vary_origin = false;
    let allow = match &cors.origins {
        CorsOrigins::Any if !cors.credentials => Some(HeaderValue::from_static("*")),
        CorsOrigins::Any | CorsOrigins::Mirror => {
            vary_origin = true;
            origin.cloned()
        }
        CorsOrigins::List(list) => {
            vary_origin = true;
            origin
                .filter(|o| {
                    list.iter()
                        .any(|allowed| allowed.as_bytes() == o.as_bytes())
                })
                .cloned()
        }
    };
    if let Some(allow) = allow {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
    }
    if vary_origin {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if cors.credentials {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

/// The 204 answer to a preflight `OPTIONS`.
pub(crate) fn preflight<B: Default>(cors: &Cors, req: &http::request::Parts) -> Response<B> {
    let mut res = Response::new(B::default());
    *res.status_mut() = StatusCode::NO_CONTENT;
    let h = res.headers_mut();
    apply(cors, req.headers.get(header::ORIGIN), h);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    if let Some(requested) = req.headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    h.append(
        header::VARY,
        HeaderValue::from_static("Access-Control-Request-Headers"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    res
}

/// Whether this request is a preflight (npm `cors`: any `OPTIONS`).
pub(crate) fn is_preflight(method: &Method) -> bool {
    method == Method::OPTIONS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cors: &Cors, origin: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        let origin = origin.map(HeaderValue::from_static);
        apply(cors, origin.as_ref(), &mut h);
        h
    }

    #[test]
    fn any_origin_is_a_star() {
        let h = headers(&Cors::any(), Some("http://a.example"));
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(h.get(header::VARY).is_none());
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
    }

    #[test]
    fn list_with_credentials_reflects_matching_origins_only() {
        let cors = Cors {
            origins: CorsOrigins::List(vec!["http://a.example".into()]),
            credentials: true,
        };
        let h = headers(&cors, Some("http://a.example"));
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "http://a.example");
        assert_eq!(h[header::VARY], "Origin");
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        let h = headers(&cors, Some("http://b.example"));
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert_eq!(h[header::VARY], "Origin");
    }

    #[test]
    fn preflight_echoes_requested_headers() {
        let req = http::Request::builder()
            .method(Method::OPTIONS)
            .header(header::ORIGIN, "http://a.example")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let res: Response<()> = preflight(&Cors::any(), &req);
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let h = res.headers();
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_METHODS], ALLOW_METHODS);
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_HEADERS], "content-type");
        assert_eq!(h[header::VARY], "Access-Control-Request-Headers");
        assert_eq!(h[header::CONTENT_LENGTH], "0");
    }
}
