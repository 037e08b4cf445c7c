//! Namespaces: static ones, dynamic children made on demand from a
//! pattern or a predicate, their connect handlers and middleware, and the
//! sockets connected to each.

use super::handler::{erase_connect, ConnectHandler, ErasedConnect};
use super::server::ServerInner;
use super::{ConnectError, FetchedSocket, RemoteSocket, Sid, SocketRef};
use core::fmt;
use oxio_adapter::{
    AckError, AckSink, Adapter, EmitError, FoundSocket, LocalNamespace, LocalSockets, Outgoing,
    RemoteSocketData, ServerEvent, SocketHandle,
};
use oxio_engine::sync::RwLockExt;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, Weak};

/// A connect middleware's future.
pub type MiddlewareFuture = Pin<Box<dyn Future<Output = Result<(), ConnectError>> + Send>>;

/// A connect middleware: `Fn(SocketRef) -> impl Future<Output = Result<(), ConnectError>>`.
/// It runs before the socket is connected (it may read the handshake and
/// store extensions); an `Err` refuses the connection with CONNECT_ERROR.
pub trait ConnectMiddleware: Send + Sync + 'static {
    /// Runs the middleware.
    fn call(&self, socket: SocketRef) -> MiddlewareFuture;
}

impl<F, Fut> ConnectMiddleware for F
where
    F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
{
    fn call(&self, socket: SocketRef) -> MiddlewareFuture {
        Box::pin(self(socket))
    }
}

/// What a namespace (or a dynamic family of them) runs on connection.
pub(crate) struct NsTemplate {
    handler: RwLock<Arc<dyn ErasedConnect>>,
    middlewares: RwLock<Vec<Arc<dyn ConnectMiddleware>>>,
}

impl NsTemplate {
    pub(crate) fn new(handler: Arc<dyn ErasedConnect>) -> Self {
        NsTemplate {
            handler: RwLock::new(handler),
            middlewares: RwLock::new(Vec::new()),
        }
    }

    pub(crate) fn handler(&self) -> Arc<dyn ErasedConnect> {
        self.handler.reading().clone()
    }

    pub(crate) fn set_handler(&self, h: Arc<dyn ErasedConnect>) {
        *self.handler.writing() = h;
    }

    pub(crate) fn middlewares(&self) -> Vec<Arc<dyn ConnectMiddleware>> {
        self.middlewares.reading().clone()
    }
}

/// A registered namespace (or dynamic namespace family), to add middleware to.
///
/// ```
/// use oxio_server::socketio::{ConnectError, SocketIo, SocketRef};
///
/// let sio = SocketIo::builder().build();
/// sio.io()
///     .ns("/admin", |_s: SocketRef| {})
///     .use_middleware(|s: SocketRef| async move {
///         match s.handshake().auth::<serde_json::Value>() {
///             Ok(a) if a["token"] == "123" => Ok(()),
///             _ => Err(ConnectError::new("not authorized")),
///         }
///     });
/// ```
#[derive(Clone)]
pub struct NsHandle {
    name: String,
    template: Arc<NsTemplate>,
}

impl NsHandle {
    pub(crate) fn new(name: String, template: Arc<NsTemplate>) -> Self {
        NsHandle { name, template }
    }

    /// The name or pattern this handle was registered with.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Appends a connect middleware (Node's `nsp.use`). Middlewares run in
    /// order; the first `Err` refuses the connection. For a dynamic family
    /// they apply to every child, existing and future.
    pub fn use_middleware<M: ConnectMiddleware>(self, middleware: M) -> Self {
        self.template
            .middlewares
            .writing()
            .push(Arc::new(middleware));
        self
    }
}

impl fmt::Debug for NsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NsHandle")
            .field("name", &self.name)
            .finish()
    }
}

/// One namespace: its sockets, adapter and ack id counter.
pub(crate) struct Namespace {
    name: Arc<str>,
    template: Arc<NsTemplate>,
    sockets: RwLock<HashMap<Sid, SocketRef>>,
    adapter: Arc<dyn Adapter>,
    ack_ids: AtomicU64,
    /// Connects in progress (middleware running), so an emptied dynamic
    /// child is not removed under them.
    pending: AtomicUsize,
    /// Made from a dynamic pattern: removable when emptied.
    child: bool,
    server: Weak<ServerInner>,
    /// The server's packet format.
    parser: oxio_adapter::Parser,
    /// Listeners of events from other nodes (`on_server_side_emit`).
    server_side: RwLock<HashMap<String, Arc<ServerSideHandler>>>,
}

/// A listener of server-side events from other nodes.
pub(crate) type ServerSideHandler = dyn Fn(ServerEvent) + Send + Sync;

impl Namespace {
    pub(crate) fn new(
        name: Arc<str>,
        template: Arc<NsTemplate>,
        child: bool,
        server: &Arc<ServerInner>,
    ) -> Arc<Namespace> {
        Arc::new_cyclic(|me: &Weak<Namespace>| {
            let sockets: Weak<dyn LocalSockets> = me.clone();
            let local = LocalNamespace::new(name.clone(), sockets);
            Namespace {
                adapter: server.adapter_factory.create(local),
                name,
                template,
                sockets: RwLock::new(HashMap::new()),
                ack_ids: AtomicU64::new(0),
                pending: AtomicUsize::new(0),
                child,
                server: Arc::downgrade(server),
                parser: server.config.parser,
                server_side: RwLock::new(HashMap::new()),
            }
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The server's packet format.
    pub(crate) fn parser(&self) -> oxio_adapter::Parser {
        self.parser
    }

    pub(crate) fn template(&self) -> &Arc<NsTemplate> {
        &self.template
    }

    pub(crate) fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.adapter
    }

    /// What the adapter found, as `fetch_sockets` returns it: a local
    /// socket as itself (`None` if it left meanwhile), a remote one with a
    /// handle to act on it through this namespace's adapter.
    pub(crate) fn fetched(&self, found: FoundSocket) -> Option<FetchedSocket> {
        match found {
            FoundSocket::Local(sid) => self.socket(&sid).map(FetchedSocket::Local),
            FoundSocket::Remote(data) => Some(FetchedSocket::Remote(RemoteSocket::found(
                data,
                self.name.clone(),
                Arc::downgrade(&self.adapter),
            ))),
        }
    }

    /// The next server ack id: one counter per namespace, from 0, as in Node.
    pub(crate) fn next_ack_id(&self) -> u64 {
        let max = oxio_codec::Limits::default().max_ack_id;
        self.ack_ids
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| {
                Some(if id >= max { 0 } else { id + 1 })
            })
            .unwrap_or(0)
    }

    /// Registers the listener of server-side event `event`.
    pub(crate) fn on_server_side(&self, event: String, handler: Arc<ServerSideHandler>) {
        self.server_side.writing().insert(event, handler);
    }

    /// Calls the listener of a server-side event; false if none.
    pub(crate) fn dispatch_server_side(&self, event: ServerEvent) -> bool {
        let handler = self.server_side.reading().get(event.event()).cloned();
        match handler {
            Some(h) => super::handler::call_guarded(|| h(event)).is_some(),
            None => {
                tracing::debug!(ns = %self.name, event = event.event(), "no server-side listener");
                false
            }
        }
    }

    pub(crate) fn socket(&self, sid: &Sid) -> Option<SocketRef> {
        self.sockets.reading().get(sid).cloned()
    }

    /// The connected sockets of this node.
    pub(crate) fn local_sockets(&self) -> Vec<SocketRef> {
        self.sockets.reading().values().cloned().collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.sockets.reading().len()
    }

    /// A connected socket joins: the map, and the room of its own id.
    pub(crate) fn add_socket(&self, socket: &SocketRef) {
        self.sockets
            .writing()
            .insert(socket.id().clone(), socket.clone());
        self.adapter
            .add_all(socket.id(), &[socket.id().as_str().into()]);
    }

    /// A socket leaves (disconnect, or a refused connect that joined rooms).
    pub(crate) fn remove_socket(&self, sid: &Sid) {
        self.sockets.writing().remove(sid);
        self.adapter.del_all(sid);
        self.maybe_cleanup();
    }

    pub(crate) fn begin_connect(&self) {
        self.pending.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn end_connect(&self) {
        let _ = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        self.maybe_cleanup();
    }

    /// Removes an emptied dynamic child, when the server is configured to.
    fn maybe_cleanup(&self) {
        if !self.child {
            return;
        }
        let Some(server) = self.server.upgrade() else {
            return;
        };
        if !server.config.cleanup_empty_child_namespaces {
            return;
        }
        let mut registry = server.registry_write();
        // Re-checked under the registry lock: a connect to this child
        // increments `pending` under the same lock.
        if self.len() == 0 && self.pending.load(Ordering::Acquire) == 0 {
            let same = registry
                .children
                .get(&self.name)
                .is_some_and(|ns| std::ptr::eq(Arc::as_ptr(ns), self));
            if same {
                registry.children.remove(&self.name);
                drop(registry);
                tracing::debug!(ns = %self.name, "empty child namespace removed");
                self.adapter.close();
            }
        }
    }
}

/// How the namespace's adapter reaches its sockets.
impl LocalSockets for Namespace {
    fn send(&self, sid: &Sid, packet: &Outgoing, volatile: bool) -> Result<(), EmitError> {
        match self.socket(sid) {
            Some(s) => s.send_packet(packet, volatile),
            None => Err(EmitError::Closed),
        }
    }

    fn send_with_ack(
        &self,
        sid: &Sid,
        packet: &Outgoing,
        ack_id: u64,
        sink: AckSink,
        volatile: bool,
    ) -> Result<(), AckError> {
        match self.socket(sid) {
            Some(s) => s.send_with_ack_sink(packet, ack_id, sink, volatile),
            None => Err(AckError::Emit(EmitError::Closed)),
        }
    }

    fn disconnect(&self, sid: &Sid, close: bool) {
        match self.socket(sid) {
            Some(s) if close => s.disconnect_and_close(),
            Some(s) => s.disconnect(),
            None => {}
        }
    }

    fn socket_data(&self, sid: &Sid) -> Option<RemoteSocketData> {
        self.socket(sid).map(|s| super::fetched::remote_data(&s))
    }

    fn next_ack_id(&self) -> u64 {
        Namespace::next_ack_id(self)
    }

    fn server_side_event(&self, event: ServerEvent) -> bool {
        self.dispatch_server_side(event)
    }

    fn parser(&self) -> oxio_adapter::Parser {
        self.parser
    }

    /// Only the sockets lock is taken (the adapter calls this under its
    /// index lock; nothing here holds the sockets lock while calling the
    /// adapter).
    fn socket(&self, sid: &Sid) -> Option<SocketHandle> {
        self.socket(sid).map(|s| s.handle())
    }
}

/// A dynamic namespace matcher.
#[derive(Clone)]
pub(crate) enum NsMatcher {
    Pattern(NsPattern),
    Predicate(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl NsMatcher {
    fn matches(&self, name: &str) -> bool {
        match self {
            NsMatcher::Pattern(p) => p.matches(name),
            NsMatcher::Predicate(f) => super::handler::call_guarded(|| f(name)).unwrap_or(false),
        }
    }
}

/// Why a dynamic namespace pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NsPatternError {
    /// A `{` without its `}`, or a `}` without its `{`.
    UnbalancedBrace,
    /// `{}`: a parameter needs a name.
    EmptyParam,
    /// `{a}{b}`: two parameters need a literal between them.
    AdjacentParams,
}

impl fmt::Display for NsPatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NsPatternError::UnbalancedBrace => "unbalanced brace in namespace pattern",
            NsPatternError::EmptyParam => "empty parameter name in namespace pattern",
            NsPatternError::AdjacentParams => "adjacent parameters in namespace pattern",
        })
    }
}

impl std::error::Error for NsPatternError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Param,
}

/// A namespace pattern such as `/room-{id}`: literals must match exactly;
/// each `{name}` matches one or more characters other than `/`, up to the
/// first occurrence of the literal that follows it (no backtracking, so
/// matching is linear in the name's length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NsPattern {
    parts: Vec<Part>,
}

impl NsPattern {
    pub(crate) fn parse(pattern: &str) -> Result<Self, NsPatternError> {
        let mut parts = Vec::new();
        let mut rest = pattern;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                None => {
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
                Some(pos) => {
                    let (lit, tail) = rest.split_at_checked(pos).unwrap_or((rest, ""));
                    if tail.starts_with('}') {
                        return Err(NsPatternError::UnbalancedBrace);
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Literal(lit.to_owned()));
                    }
                    let tail = tail.get(1..).unwrap_or_default();
                    let end = tail.find('}').ok_or(NsPatternError::UnbalancedBrace)?;
                    let name = tail.get(..end).unwrap_or_default();
                    if name.is_empty() {
                        return Err(NsPatternError::EmptyParam);
                    }
                    if name.contains('{') {
                        return Err(NsPatternError::UnbalancedBrace);
                    }
                    if parts.last() == Some(&Part::Param) {
                        return Err(NsPatternError::AdjacentParams);
                    }
                    parts.push(Part::Param);
                    rest = tail.get(end + 1..).unwrap_or_default();
                }
            }
        }
        Ok(NsPattern { parts })
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        let mut rest = name;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(lit) => match rest.strip_prefix(lit.as_str()) {
                    Some(r) => rest = r,
                    None => return false,
                },
                Part::Param => {
                    let (segment, after) = match parts.peek() {
                        Some(Part::Literal(next)) => match rest.find(next.as_str()) {
                            Some(pos) => rest.split_at_checked(pos).unwrap_or((rest, "")),
                            None => return false,
                        },
                        Some(Part::Param) => return false,
                        None => (rest, ""),
                    };
                    if segment.is_empty() || segment.contains('/') {
                        return false;
                    }
                    rest = after;
                }
            }
        }
        rest.is_empty()
    }
}

pub(crate) struct DynEntry {
    pub(crate) matcher: NsMatcher,
    pub(crate) template: Arc<NsTemplate>,
}

/// Every namespace of a server.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) statics: HashMap<Arc<str>, Arc<Namespace>>,
    pub(crate) dynamics: Vec<DynEntry>,
    pub(crate) children: HashMap<Arc<str>, Arc<Namespace>>,
}

impl Registry {
    /// An existing namespace (static, or a dynamic child already made).
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Namespace>> {
        self.statics
            .get(name)
            .or_else(|| self.children.get(name))
            .cloned()
    }

    /// The first dynamic family `name` matches.
    pub(crate) fn dynamic_for(&self, name: &str) -> Option<Arc<NsTemplate>> {
        self.dynamics
            .iter()
            .find(|d| d.matcher.matches(name))
            .map(|d| d.template.clone())
    }
}

/// `admin` → `/admin`, as Node's `of()` normalises.
pub(crate) fn normalize(name: &str) -> String {
    if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("/{name}")
    }
}

pub(crate) fn template_for<H: ConnectHandler<M>, M: 'static>(handler: H) -> Arc<NsTemplate> {
    Arc::new(NsTemplate::new(erase_connect(handler)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_table() {
        for (pattern, name, want) in [
            ("/room-{id}", "/room-1", true),
            ("/room-{id}", "/room-abc", true),
            ("/room-{id}", "/room-", false),
            ("/room-{id}", "/room-1/x", false),
            ("/room-{id}", "/room", false),
            ("/room-{id}", "/other-1", false),
            ("/{org}/{team}", "/acme/red", true),
            ("/{org}/{team}", "/acme/", false),
            ("/{org}/{team}", "/acme", false),
            ("/{a}-x", "/b-x", true),
            ("/{a}-x", "/b-xy", false),
            ("/static", "/static", true),
            ("/static", "/static2", false),
            ("/é{x}", "/éé", true),
        ] {
            let p = NsPattern::parse(pattern).unwrap();
            assert_eq!(p.matches(name), want, "{pattern} vs {name}");
        }
    }

    #[test]
    fn bad_patterns() {
        for (pattern, err) in [
            ("/a{", NsPatternError::UnbalancedBrace),
            ("/a}", NsPatternError::UnbalancedBrace),
            ("/a{b{c}}", NsPatternError::UnbalancedBrace),
            ("/{}", NsPatternError::EmptyParam),
            ("/{a}{b}", NsPatternError::AdjacentParams),
        ] {
            assert_eq!(NsPattern::parse(pattern), Err(err), "{pattern}");
        }
    }

    #[test]
    fn normalize_names() {
        assert_eq!(normalize("admin"), "/admin");
        assert_eq!(normalize("/admin"), "/admin");
        assert_eq!(normalize(""), "/");
    }
}
