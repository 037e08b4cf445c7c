//! `wss://` and `https://` (feature `tls`): TLS 1.3 with
//! [embedded-tls](https://docs.rs/embedded-tls) (no_std, no heap), the
//! server's certificate verified against a trust anchor the caller gives.
//!
//! # Shape
//!
//! embedded-tls keeps a connection's state in a `TlsConnection` that
//! borrows its record buffers for as long as it lives, and its reads must
//! not be cancelled in the middle of a record. The [`Client`](crate::Client)
//! keeps its connection across calls and cancels reads when a timer fires,
//! so TLS runs in a separate future, the [`TlsRunner`], which owns the
//! record buffers and opens one TLS connection after the other (each
//! reconnection reuses them). The client talks to it through a
//! [`TlsConnector`] over two byte pipes in a [`TlsShared`]:
//!
//! ```text
//!  Client ──TlsConnector──> TlsShared (2 pipes + signals) <── TlsRunner ──> inner Connector (TCP)
//! ```
//!
//! Run the runner next to the client: a spawned task on Embassy (with
//! `CriticalSectionRawMutex`, everything in `StaticCell`s), or joined in
//! the same task (`NoopRawMutex`), as the tests do.
//!
//! # Verification
//!
//! With [`TlsVerify::Ca`] (the normal case) the handshake succeeds only if
//! all of these hold, otherwise the connection fails with
//! [`TlsError::Certificate`] before any byte of the Socket.IO layer is sent:
//!
//! - the server sent a certificate, and its leaf certificate is signed by
//!   the trust anchor (ECDSA P-256 / SHA-256). Further certificates the
//!   server sends must be the trust anchor itself: a chain through an
//!   intermediate is refused (embedded-tls checks no `basicConstraints`, so
//!   accepting intermediates would let any leaf of the CA sign a forged
//!   certificate; give the issuing intermediate as the trust anchor instead);
//! - the leaf names the server (its DNS SANs, else its CN, RFC 6125
//!   wildcards): the URL's host, or the name given with [`TlsVerify::CaForName`];
//! - the server proved it holds the leaf's key (TLS 1.3 `CertificateVerify`,
//!   ECDSA P-256), and the handshake's `Finished` matches.
//!
//! Not checked: the validity dates (a microcontroller rarely knows the
//! time), revocation. Only TLS 1.3 with `TLS_AES_128_GCM_SHA256` and the
//! P-256 key exchange is offered.

use crate::connector::Connector;
use crate::error::{Error, TlsError};
use core::cell::Cell;
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;
use embassy_futures::select::{select, select3, Either, Either3};
use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::pipe::Pipe;
use embassy_sync::signal::Signal;
use embedded_io_async::{ErrorType, Read, Write};
use embedded_tls::{
    Aes128GcmSha256, CertificateEntryRef, CertificateRef, CertificateVerifyRef, CryptoProvider,
    NoClock, TlsConnection, TlsContext, TlsVerifier,
};
use rand_core::{CryptoRng, RngCore};

/// Longest host name the handshake accepts (embedded-tls keeps the
/// expected name in 64 bytes).
pub const MAX_SERVER_NAME_LEN: usize = 64;

/// Bytes kept of the server's leaf certificate between `Certificate` and
/// `CertificateVerify` (inside the runner future, during the handshake).
const CERT_SIZE: usize = 4096;

/// Record buffer size that fits any TLS record a server may send
/// (2^14 bytes of plaintext plus the record overhead).
pub const FULL_RECORD_LEN: usize = 16_640;

/// Longest host name kept in a connection request (a DNS name has at most 253).
const HOST_CAPACITY: usize = 253;

/// How the server's certificate is checked.
///
/// ```
/// use oxio_client::TlsVerify;
///
/// static CA: &[u8] = b"..."; // the DER bytes of your CA certificate
/// let v = TlsVerify::Ca(CA);
/// assert!(v.verifies());
/// assert!(!TlsVerify::Insecure_DangerNoVerification.verifies());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TlsVerify<'a> {
    /// The server's leaf certificate must be signed by this CA certificate
    /// (DER) and name the URL's host.
    Ca(&'a [u8]),
    /// As [`TlsVerify::Ca`], but the certificate must name `server_name`
    /// (also sent as SNI); for a URL holding an IP address, or a server
    /// reached under another name.
    CaForName {
        /// The CA certificate (DER).
        ca: &'a [u8],
        /// The name the certificate must carry.
        server_name: &'a str,
    },
    /// No verification at all: anybody on the path can read and change the
    /// traffic. For a bench with a self-signed server only.
    #[allow(non_camel_case_types)]
    Insecure_DangerNoVerification,
}

impl TlsVerify<'_> {
    /// Whether the server's certificate is checked.
    pub fn verifies(&self) -> bool {
        !matches!(self, TlsVerify::Insecure_DangerNoVerification)
    }
}

/// A connection request from the client to the runner.
struct Request {
    id: u32,
    host: heapless::String<HOST_CAPACITY>,
    port: u16,
}

/// What a [`TlsConnector`] and its [`TlsRunner`] share: a pipe each way
/// (`IN` bytes from the server, `OUT` bytes to it) and a few signals. Put
/// it in a `static` / `StaticCell` (its constructor is `const`).
///
/// `M` is the mutex kind: `CriticalSectionRawMutex` when the runner is
/// another Embassy task, `NoopRawMutex` when both run in one task.
pub struct TlsShared<M: RawMutex, const IN: usize = 1024, const OUT: usize = 1024> {
    request: Signal<M, Request>,
    reply: Signal<M, (u32, Result<(), TlsError>)>,
    close: Signal<M, u32>,
    ended: Signal<M, (u32, Option<TlsError>)>,
    rx: Pipe<M, IN>,
    tx: Pipe<M, OUT>,
    next_id: Mutex<M, Cell<u32>>,
}

impl<M: RawMutex, const IN: usize, const OUT: usize> Default for TlsShared<M, IN, OUT> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: RawMutex, const IN: usize, const OUT: usize> TlsShared<M, IN, OUT> {
    /// Empty pipes, no connection.
    pub const fn new() -> Self {
        TlsShared {
            request: Signal::new(),
            reply: Signal::new(),
            close: Signal::new(),
            ended: Signal::new(),
            rx: Pipe::new(),
            tx: Pipe::new(),
            next_id: Mutex::new(Cell::new(1)),
        }
    }

    fn take_id(&self) -> u32 {
        self.next_id.lock(|c| {
            let id = c.get();
            c.set(id.wrapping_add(1).max(1));
            id
        })
    }
}

/// The [`Connector`] to give the [`Client`](crate::Client) for `wss://`
/// and `https://` URLs: it asks the [`TlsRunner`] sharing `shared` for a
/// connection and waits for the handshake's outcome.
///
/// ```
/// use embassy_sync::blocking_mutex::raw::NoopRawMutex;
/// use oxio_client::{Client, TlsConnector, TlsShared};
/// use oxio_codec::client::Config;
///
/// let shared: TlsShared<NoopRawMutex> = TlsShared::new();
/// let tls = TlsConnector::new(&shared);
/// let c: Result<Client<'_, _, _>, _> = Client::new(&tls, "wss://example.com", Config::default(), || 7);
/// assert!(c.is_ok());
/// // A TLS connector takes only wss:// and https:// URLs.
/// let c: Result<Client<'_, _, _>, _> = Client::new(&tls, "ws://example.com", Config::default(), || 7);
/// assert!(c.is_err());
/// ```
pub struct TlsConnector<'s, M: RawMutex, const IN: usize = 1024, const OUT: usize = 1024> {
    shared: &'s TlsShared<M, IN, OUT>,
}

impl<'s, M: RawMutex, const IN: usize, const OUT: usize> TlsConnector<'s, M, IN, OUT> {
    /// A connector whose runner uses `shared`.
    pub fn new(shared: &'s TlsShared<M, IN, OUT>) -> Self {
        TlsConnector { shared }
    }
}

impl<M: RawMutex, const IN: usize, const OUT: usize> Connector for TlsConnector<'_, M, IN, OUT> {
    type Connection<'a>
        = TlsStream<'a, M, IN, OUT>
    where
        Self: 'a;
    type Error = TlsError;
    const TLS: bool = true;

    async fn connect<'a>(
        &'a self,
        host: &str,
        port: u16,
    ) -> Result<Self::Connection<'a>, Self::Error> {
        let host = heapless::String::try_from(host).map_err(|_| TlsError::ServerName)?;
        let id = self.shared.take_id();
        self.shared.reply.reset();
        self.shared.request.signal(Request { id, host, port });
        loop {
            let (got, result) = self.shared.reply.wait().await;
            if got == id {
                result?;
                return Ok(TlsStream {
                    shared: self.shared,
                    id,
                    ended: None,
                });
            }
        }
    }

    fn connect_error(error: &TlsError) -> Error {
        match error {
            TlsError::Tcp => Error::Connect,
            e => Error::Tls(*e),
        }
    }
}

/// An open TLS connection as the client sees it: plaintext through the
/// pipes. Dropping it makes the runner close the connection.
pub struct TlsStream<'a, M: RawMutex, const IN: usize, const OUT: usize> {
    shared: &'a TlsShared<M, IN, OUT>,
    id: u32,
    /// Set once the runner said the connection is over.
    ended: Option<Option<TlsError>>,
}

impl<M: RawMutex, const IN: usize, const OUT: usize> TlsStream<'_, M, IN, OUT> {
    async fn wait_ended(&self) -> Option<TlsError> {
        loop {
            let (id, why) = self.shared.ended.wait().await;
            if id == self.id {
                return why;
            }
        }
    }
}

impl<M: RawMutex, const IN: usize, const OUT: usize> Drop for TlsStream<'_, M, IN, OUT> {
    fn drop(&mut self) {
        self.shared.close.signal(self.id);
    }
}

impl<M: RawMutex, const IN: usize, const OUT: usize> ErrorType for TlsStream<'_, M, IN, OUT> {
    type Error = TlsError;
}

impl<M: RawMutex, const IN: usize, const OUT: usize> Read for TlsStream<'_, M, IN, OUT> {
    /// Cancel-safe: bytes are taken from the pipe only when returned.
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.ended.is_none() {
            match select(self.shared.rx.read(buf), self.wait_ended()).await {
                Either::First(n) => return Ok(n),
                Either::Second(why) => self.ended = Some(why),
            }
        }
        // Over: hand out what is left, then the end.
        match self.shared.rx.try_read(buf) {
            Ok(n) => Ok(n),
            Err(_) => match self.ended {
                Some(Some(e)) => Err(e),
                _ => Ok(0),
            },
        }
    }
}

impl<M: RawMutex, const IN: usize, const OUT: usize> Write for TlsStream<'_, M, IN, OUT> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.ended.is_none() {
            match select(self.shared.tx.write(buf), self.wait_ended()).await {
                Either::First(n) => return Ok(n),
                Either::Second(why) => self.ended = Some(why),
            }
        }
        Err(self.ended.flatten().unwrap_or(TlsError::Closed))
    }

    /// The bytes are in the pipe; the runner sends them as soon as it can.
    async fn flush(&mut self) -> Result<(), TlsError> {
        Ok(())
    }
}

/// Owns the TLS record buffers and runs the TLS connections the
/// [`TlsConnector`] asks for, over TCP connections from `connector`.
/// [`TlsRunner::run`] never returns: run it beside the client.
///
/// Buffers: `read_record` must hold the largest record the server sends:
/// [`FULL_RECORD_LEN`] (16 640 B) in general. `write_record` bounds the
/// records sent (and must hold the ClientHello): 2048 to 4096 is plenty
/// for Socket.IO frames.
///
/// `rng` must be a cryptographic generator (the board's true RNG, or a CSPRNG
/// seeded from it): it makes the key share and the `ClientHello` random.
///
/// ```
/// use embassy_futures::select::{select, Either};
/// use embassy_sync::blocking_mutex::raw::NoopRawMutex;
/// use oxio_client::tls::FULL_RECORD_LEN;
/// use oxio_client::{Client, Error, TlsConnector, TlsRunner, TlsShared, TlsVerify, TokioConnector};
/// use oxio_codec::client::{Config, NO_AUTH};
///
/// static CA: &[u8] = &[]; // your CA certificate (DER), e.g. include_bytes!("ca.der")
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let free = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
/// let url = format!("wss://localhost:{}", free.local_addr().unwrap().port());
/// drop(free); // nothing listens there
///
/// let shared: TlsShared<NoopRawMutex> = TlsShared::new();
/// let (mut read_record, mut write_record) = (vec![0; FULL_RECORD_LEN], vec![0; 4096]);
/// let mut runner = TlsRunner::new(
///     &shared, &TokioConnector, TlsVerify::Ca(CA), rand_core::OsRng,
///     &mut read_record, &mut write_record,
/// );
/// let connector = TlsConnector::new(&shared);
/// let mut client: Client<'_, _, _> = Client::new(&connector, &url, Config::default(), || 7).unwrap();
/// client.connect("/", NO_AUTH).unwrap();
/// let app = async {
///     while client.last_error().is_none() {
///         let _ = client.next_event().await;
///     }
///     client.last_error().cloned()
/// };
/// // The runner and the client side by side (on Embassy: two tasks).
/// let got = rt.block_on(async {
///     match select(runner.run(), app).await {
///         Either::First(never) => match never {},
///         Either::Second(e) => e,
///     }
/// });
/// assert_eq!(got, Some(Error::Connect));
/// ```
pub struct TlsRunner<'r, C: Connector, R, M: RawMutex, const IN: usize, const OUT: usize> {
    shared: &'r TlsShared<M, IN, OUT>,
    connector: &'r C,
    verify: TlsVerify<'r>,
    rng: R,
    read_record: &'r mut [u8],
    write_record: &'r mut [u8],
}

impl<'r, C, R, M, const IN: usize, const OUT: usize> TlsRunner<'r, C, R, M, IN, OUT>
where
    C: Connector,
    R: CryptoRng + RngCore,
    M: RawMutex,
{
    /// A runner serving `shared`'s connector, opening TCP connections
    /// with `connector` and checking servers as `verify` says.
    pub fn new(
        shared: &'r TlsShared<M, IN, OUT>,
        connector: &'r C,
        verify: TlsVerify<'r>,
        rng: R,
        read_record: &'r mut [u8],
        write_record: &'r mut [u8],
    ) -> Self {
        TlsRunner {
            shared,
            connector,
            verify,
            rng,
            read_record,
            write_record,
        }
    }

    /// Serves connection requests forever.
    pub async fn run(&mut self) -> ! {
        let mut next: Option<Request> = None;
        loop {
            let request = match next.take() {
                Some(r) => r,
                None => self.shared.request.wait().await,
            };
            next = self.serve(request).await;
        }
    }

    /// One connection: TCP, handshake, then shuttling until the client
    /// drops it, the server ends it, or a new request comes (returned).
    async fn serve(&mut self, request: Request) -> Option<Request> {
        let TlsRunner {
            shared,
            connector,
            verify,
            rng,
            read_record,
            write_record,
        } = self;
        let shared: &TlsShared<M, IN, OUT> = shared;
        let connector: &C = connector;
        let id = request.id;
        shared.rx.clear();
        shared.tx.clear();
        shared.ended.reset();
        shared.close.reset();
        let reply = |r: Result<(), TlsError>| shared.reply.signal((id, r));

        let (ca, name) = match *verify {
            TlsVerify::Ca(ca) => (Some(ca), request.host.as_str()),
            TlsVerify::CaForName { ca, server_name } => (Some(ca), server_name),
            TlsVerify::Insecure_DangerNoVerification => (None, request.host.as_str()),
        };
        if name.len() > MAX_SERVER_NAME_LEN {
            reply(Err(TlsError::ServerName));
            return None;
        }

        let sock = match select(
            connector.connect(request.host.as_str(), request.port),
            shared.request.wait(),
        )
        .await
        {
            Either::First(Ok(sock)) => sock,
            Either::First(Err(_)) => {
                reply(Err(TlsError::Tcp));
                return None;
            }
            Either::Second(newer) => return Some(newer),
        };
        let boundary = Cell::new(true);
        let mut tls: TlsConnection<'_, _, Aes128GcmSha256> =
            TlsConnection::new(Guard::new(sock, &boundary), read_record, write_record);
        let mut verifier = ca.map(Verifier::new);
        let opened = {
            // No SNI for an IP literal (RFC 6066) unless it must be checked.
            let is_ip = name.parse::<core::net::IpAddr>().is_ok();
            let config = if ca.is_none() && is_ip {
                embedded_tls::TlsConfig::new()
            } else {
                embedded_tls::TlsConfig::new().with_server_name(name)
            };
            let provider = Provider {
                rng: &mut *rng,
                verifier: verifier.as_mut(),
            };
            let open = tls.open(TlsContext::new(&config, provider));
            match select(open, shared.request.wait()).await {
                Either::First(r) => r,
                Either::Second(newer) => return Some(newer),
            }
        };
        let outcome = match (opened, &verifier) {
            (Err(_), Some(v)) if v.refused => Err(TlsError::Certificate),
            (Err(e), _) => Err(TlsError::from_tls(e)),
            // The server may skip Certificate/CertificateVerify and still
            // finish the handshake: refuse that unless verification is off.
            (Ok(()), Some(v)) if !(v.certificate_ok && v.signature_ok) => {
                Err(TlsError::Certificate)
            }
            (Ok(()), _) => Ok(()),
        };
        drop(verifier);
        if let Err(e) = outcome {
            reply(Err(e));
            return None;
        }
        reply(Ok(()));

        let mut plain = [0u8; 256];
        let (mut from, mut to) = (0usize, 0usize);
        let mut out = [0u8; 256];
        loop {
            let event = if from < to {
                // Hand decrypted bytes to the client; keep sending its bytes.
                let pending = plain.get(from..to).unwrap_or(&[]);
                match select3(
                    shared.rx.write(pending),
                    outgoing(&shared.tx, &mut out, &boundary),
                    control(shared, id),
                )
                .await
                {
                    Either3::First(n) => {
                        from = from.saturating_add(n);
                        continue;
                    }
                    Either3::Second(n) => Ev::Out(n),
                    Either3::Third(c) => Ev::Control(c),
                }
            } else {
                match select3(
                    tls.read(&mut plain),
                    outgoing(&shared.tx, &mut out, &boundary),
                    control(shared, id),
                )
                .await
                {
                    Either3::First(r) => Ev::In(r),
                    Either3::Second(n) => Ev::Out(n),
                    Either3::Third(c) => Ev::Control(c),
                }
            };
            match event {
                Ev::In(Ok(n)) => {
                    from = 0;
                    to = n.min(plain.len());
                }
                Ev::In(Err(e)) => {
                    let why = match e {
                        embedded_tls::TlsError::ConnectionClosed => None,
                        e => Some(TlsError::from_tls(e)),
                    };
                    shared.ended.signal((id, why));
                    return wait_control(shared, id).await;
                }
                Ev::Out(n) => {
                    let data = out.get(..n).unwrap_or(&[]);
                    let send = async {
                        tls.write_all(data).await?;
                        tls.flush().await
                    };
                    // A server that stops reading must not hold the runner.
                    match select(send, control(shared, id)).await {
                        Either::First(Ok(())) => {}
                        Either::First(Err(e)) => {
                            shared.ended.signal((id, Some(TlsError::from_tls(e))));
                            return wait_control(shared, id).await;
                        }
                        Either::Second(c) => return c,
                    }
                }
                Ev::Control(None) => {
                    // The client let go: send what it wrote last (its close
                    // frame), then close_notify; a new request cuts this short.
                    let goodbye = async {
                        while let Ok(n) = shared.tx.try_read(&mut out) {
                            if tls.write_all(out.get(..n).unwrap_or(&[])).await.is_err() {
                                return;
                            }
                        }
                        let _ = tls.close().await;
                    };
                    return match select(goodbye, shared.request.wait()).await {
                        Either::First(()) => None,
                        Either::Second(newer) => Some(newer),
                    };
                }
                Ev::Control(c) => return c,
            }
        }
    }
}

/// What one turn of the shuttle loop got (short-lived).
#[allow(clippy::large_enum_variant)]
enum Ev {
    In(Result<usize, embedded_tls::TlsError>),
    Out(usize),
    Control(Option<Request>),
}

/// Bytes the client wrote, taken only while the TLS reader stands between
/// two records (so cancelling its read loses nothing). The boundary only
/// changes while the TLS read is polled in the same `select`, which polls
/// this future right after it: no waker is needed for it.
async fn outgoing<M: RawMutex, const OUT: usize>(
    tx: &Pipe<M, OUT>,
    out: &mut [u8],
    boundary: &Cell<bool>,
) -> usize {
    poll_fn(|cx| {
        if !boundary.get() {
            return Poll::Pending;
        }
        let read = pin!(tx.read(&mut *out));
        read.poll(cx)
    })
    .await
}

/// The client dropped connection `id` (`None`), or asked for a new one.
async fn control<M: RawMutex, const IN: usize, const OUT: usize>(
    shared: &TlsShared<M, IN, OUT>,
    id: u32,
) -> Option<Request> {
    let closed = async {
        loop {
            if shared.close.wait().await == id {
                return;
            }
        }
    };
    match select(closed, shared.request.wait()).await {
        Either::First(()) => None,
        Either::Second(r) => Some(r),
    }
}

/// After the connection ended: wait until the client lets go of it.
async fn wait_control<M: RawMutex, const IN: usize, const OUT: usize>(
    shared: &TlsShared<M, IN, OUT>,
    id: u32,
) -> Option<Request> {
    control(shared, id).await
}

/// The TCP connection under TLS, watching the record framing so the
/// runner knows when embedded-tls stands between two records.
struct Guard<'b, S> {
    inner: S,
    boundary: &'b Cell<bool>,
    header: [u8; 5],
    have: usize,
    left: usize,
}

impl<'b, S> Guard<'b, S> {
    fn new(inner: S, boundary: &'b Cell<bool>) -> Self {
        boundary.set(true);
        Guard {
            inner,
            boundary,
            header: [0; 5],
            have: 0,
            left: 0,
        }
    }

    fn track(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.left > 0 {
                let k = self.left.min(data.len());
                self.left -= k;
                data = data.get(k..).unwrap_or(&[]);
            } else if let Some((&b, rest)) = data.split_first() {
                if let Some(slot) = self.header.get_mut(self.have) {
                    *slot = b;
                }
                self.have += 1;
                data = rest;
                if self.have >= self.header.len() {
                    self.have = 0;
                    self.left = usize::from(u16::from_be_bytes([self.header[3], self.header[4]]));
                }
            }
        }
        self.boundary.set(self.have == 0 && self.left == 0);
    }
}

impl<S: ErrorType> ErrorType for Guard<'_, S> {
    type Error = S::Error;
}

impl<S: Read> Read for Guard<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, S::Error> {
        let n = self.inner.read(buf).await?;
        self.track(buf.get(..n).unwrap_or(&[]));
        Ok(n)
    }
}

impl<S: Write> Write for Guard<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, S::Error> {
        self.inner.write(buf).await
    }

    async fn flush(&mut self) -> Result<(), S::Error> {
        self.inner.flush().await
    }
}

/// embedded-tls's verifier (chain to the trust anchor, host name,
/// `CertificateVerify`) with the checks it lacks: the certificate and its
/// proof must both come, in order, once; only the leaf (plus copies of
/// the anchor) is accepted.
struct Verifier<'a> {
    ca: &'a [u8],
    inner: embedded_tls::pki::CertVerifier<'a, Aes128GcmSha256, NoClock, CERT_SIZE>,
    name_set: bool,
    certificate_ok: bool,
    signature_ok: bool,
    refused: bool,
}

impl<'a> Verifier<'a> {
    fn new(ca: &'a [u8]) -> Self {
        Verifier {
            ca,
            inner: embedded_tls::pki::CertVerifier::new(embedded_tls::Certificate::X509(ca)),
            name_set: false,
            certificate_ok: false,
            signature_ok: false,
            refused: false,
        }
    }

    fn refuse<T>(&mut self) -> Result<T, embedded_tls::TlsError> {
        self.refused = true;
        Err(embedded_tls::TlsError::InvalidCertificate)
    }
}

impl TlsVerifier<Aes128GcmSha256> for Verifier<'_> {
    fn set_hostname_verification(&mut self, hostname: &str) -> Result<(), embedded_tls::TlsError> {
        self.inner.set_hostname_verification(hostname)?;
        self.name_set = true;
        Ok(())
    }

    fn verify_certificate(
        &mut self,
        transcript: &<Aes128GcmSha256 as embedded_tls::TlsCipherSuite>::Hash,
        mut cert: CertificateRef,
    ) -> Result<(), embedded_tls::TlsError> {
        if !self.name_set || self.certificate_ok || cert.entries.is_empty() {
            return self.refuse();
        }
        let only_anchor_after_leaf = cert
            .entries
            .iter()
            .skip(1)
            .all(|e| matches!(e, CertificateEntryRef::X509(der) if *der == self.ca));
        if !only_anchor_after_leaf {
            return self.refuse();
        }
        cert.entries.truncate(1);
        match self.inner.verify_certificate(transcript, cert) {
            Ok(()) => {
                self.certificate_ok = true;
                Ok(())
            }
            Err(_) => self.refuse(),
        }
    }

    fn verify_signature(
        &mut self,
        verify: CertificateVerifyRef,
    ) -> Result<(), embedded_tls::TlsError> {
        if !self.certificate_ok || self.signature_ok {
            return self.refuse();
        }
        match self.inner.verify_signature(verify) {
            Ok(()) => {
                self.signature_ok = true;
                Ok(())
            }
            Err(_) => self.refuse(),
        }
    }
}

/// The caller's RNG and, unless verification is off, the verifier.
struct Provider<'v, 'a, R> {
    rng: &'v mut R,
    verifier: Option<&'v mut Verifier<'a>>,
}

impl<R: CryptoRng + RngCore> CryptoProvider for Provider<'_, '_, R> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = [u8; 0];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut *self.rng
    }

    fn verifier(
        &mut self,
    ) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, embedded_tls::TlsError> {
        match self.verifier.as_deref_mut() {
            Some(v) => Ok(v),
            None => Err(embedded_tls::TlsError::Unimplemented),
        }
    }
}

impl TlsError {
    fn from_tls(e: embedded_tls::TlsError) -> Self {
        use embedded_tls::TlsError as E;
        match e {
            E::InvalidCertificate
            | E::InvalidCertificateEntry
            | E::InvalidSignature
            | E::InvalidSignatureScheme => TlsError::Certificate,
            E::HandshakeAborted(_, d) | E::AbortHandshake(_, d) => TlsError::Alert(d as u8),
            E::InsufficientSpace => TlsError::RecordTooLarge,
            E::Io(_) | E::IoError | E::ConnectionClosed => TlsError::Io,
            _ => TlsError::Protocol,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out `data` in pieces of the given sizes.
    struct Pieces<'d> {
        data: &'d [u8],
        sizes: &'d [usize],
    }

    impl ErrorType for Pieces<'_> {
        type Error = core::convert::Infallible;
    }

    impl Read for Pieces<'_> {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            let (first, rest) = self.sizes.split_first().unwrap_or((&0, &[]));
            let n = (*first).min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.sizes = rest;
            Ok(n)
        }
    }

    #[test]
    fn guard_knows_record_boundaries() {
        // Records of 3, 0 and 2 payload bytes.
        let stream = [
            23, 3, 3, 0, 3, b'a', b'b', b'c', 23, 3, 3, 0, 0, 23, 3, 3, 0, 2, b'd', b'e',
        ];
        // (piece size, boundary after it)
        let table: &[(usize, bool)] = &[
            (2, false), // inside the first header
            (3, false), // header done, 3 payload bytes to come
            (2, false),
            (1, true), // first record complete
            (5, true), // an empty record
            (6, false),
            (1, true),
        ];
        let mut sizes = [0usize; 7];
        for (s, t) in sizes.iter_mut().zip(table) {
            *s = t.0;
        }
        let boundary = Cell::new(false);
        let mut guard = Guard::new(
            Pieces {
                data: &stream,
                sizes: &sizes,
            },
            &boundary,
        );
        assert!(boundary.get());
        let mut buf = [0u8; 16];
        for (i, (size, at_boundary)) in table.iter().enumerate() {
            let n = embassy_futures::block_on(guard.read(&mut buf[..*size])).unwrap();
            assert_eq!(n, *size, "piece {i}");
            assert_eq!(boundary.get(), *at_boundary, "piece {i}");
        }
        // One read spanning a record end and the next header.
        let boundary = Cell::new(true);
        let mut guard = Guard::new(
            Pieces {
                data: &stream,
                sizes: &[10, 10],
            },
            &boundary,
        );
        embassy_futures::block_on(guard.read(&mut buf[..10])).unwrap();
        assert!(!boundary.get());
        embassy_futures::block_on(guard.read(&mut buf[..10])).unwrap();
        assert!(boundary.get());
    }

    #[test]
    fn errors_map_to_typed_tls_errors() {
        use embedded_tls::alert::{AlertDescription, AlertLevel};
        use embedded_tls::TlsError as E;
        let table = [
            (E::InvalidCertificate, TlsError::Certificate),
            (E::InvalidSignature, TlsError::Certificate),
            (
                E::HandshakeAborted(AlertLevel::Fatal, AlertDescription::HandshakeFailure),
                TlsError::Alert(40),
            ),
            (E::InsufficientSpace, TlsError::RecordTooLarge),
            (E::IoError, TlsError::Io),
            (E::InvalidRecord, TlsError::Protocol),
        ];
        for (from, to) in table {
            assert_eq!(TlsError::from_tls(from), to, "{from:?}");
        }
        assert!(TlsVerify::Ca(b"x").verifies());
        assert!(!TlsVerify::Insecure_DangerNoVerification.verifies());
    }
}
