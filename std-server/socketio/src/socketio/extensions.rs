//! A typed map, for per-socket data and for server-wide state.

use oxio_engine::sync::RwLockExt;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::RwLock;

/// Values keyed by their type, one per type. Per-socket data lives here
/// ([`Socket::extensions`](super::Socket::extensions), read by the
/// [`Extension`](super::extract::Extension) extractor); so does the state
/// given to [`SocketIoBuilder::with_state`](super::SocketIoBuilder::with_state).
///
/// ```
/// use oxio_server::socketio::Extensions;
///
/// #[derive(Clone, Debug, PartialEq)]
/// struct User(String);
/// let ext = Extensions::default();
/// assert_eq!(ext.insert(User("ann".into())), None);
/// assert_eq!(ext.get::<User>(), Some(User("ann".into())));
/// assert_eq!(ext.get::<u32>(), None);
/// assert_eq!(ext.remove::<User>(), Some(User("ann".into())));
/// ```
#[derive(Default)]
pub struct Extensions {
    map: RwLock<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl Extensions {
    /// Stores `value`, returning the previous value of that type.
    pub fn insert<T: Clone + Send + Sync + 'static>(&self, value: T) -> Option<T> {
        let mut map = self.map.writing();
        map.insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|old| old.downcast::<T>().ok())
            .map(|b| *b)
    }

    /// A clone of the value of type `T`.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        let map = self.map.reading();
        map.get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        let mut map = self.map.writing();
        map.remove(&TypeId::of::<T>())
            .and_then(|old| old.downcast::<T>().ok())
            .map(|b| *b)
    }

    /// Whether a value of type `T` is stored.
    pub fn contains<T: Send + Sync + 'static>(&self) -> bool {
        let map = self.map.reading();
        map.contains_key(&TypeId::of::<T>())
    }
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let map = self.map.reading();
        f.debug_struct("Extensions")
            .field("len", &map.len())
            .finish()
    }
}
