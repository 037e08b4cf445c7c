//! Locks that ignore poisoning, in one place.
//!
//! A panic in a handler (caught and logged by the Socket.IO layer) must not
//! make every later use of a session, namespace or room index fail: the
//! data behind these locks is left consistent at every await-free step, so
//! a poisoned lock is taken over as it is. Every lock of the server crates
//! goes through these two traits.
//!
//! ```
//! use oxio_engine::sync::{LockExt, RwLockExt};
//! use std::sync::{Mutex, RwLock};
//!
//! let m = Mutex::new(1);
//! *m.locked() += 1;
//! assert_eq!(*m.locked(), 2);
//! let r = RwLock::new(vec![1]);
//! r.writing().push(2);
//! assert_eq!(r.reading().len(), 2);
//! ```

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// [`Mutex::lock`] without poisoning.
pub trait LockExt<T: ?Sized> {
    /// Locks, taking over a lock poisoned by a panic.
    fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> LockExt<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// [`RwLock::read`] and [`RwLock::write`] without poisoning.
pub trait RwLockExt<T: ?Sized> {
    /// Locks for reading, taking over a lock poisoned by a panic.
    fn reading(&self) -> RwLockReadGuard<'_, T>;
    /// Locks for writing, taking over a lock poisoned by a panic.
    fn writing(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockExt<T> for RwLock<T> {
    fn reading(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(|e| e.into_inner())
    }
    fn writing(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(|e| e.into_inner())
    }
}
