//! `OpState`: the per-runtime type map that `#[state]` parameters borrow from.

use std::any::{Any, TypeId, type_name};

use rustc_hash::FxHashMap;

use crate::resources::ResourceTable;

/// Everything a runtime's ops share: one value per type, and the resource table.
///
/// ```
/// let mut state = opkit::OpState::default();
/// state.put(41_u32);
/// *state.borrow_mut::<u32>().unwrap() += 1;
/// assert_eq!(state.borrow::<u32>(), Some(&42));
/// ```
#[derive(Default)]
pub struct OpState {
    /// The resources this runtime's guest can reach by rid.
    pub resource_table: ResourceTable,
    values: FxHashMap<TypeId, Box<dyn Any>>,
    /// Where async entries run their bodies; `None`: the calling thread's runtime.
    blocking_pool: Option<tokio::runtime::Handle>,
}

impl OpState {
    /// Stores `value`, replacing and returning any earlier value of its type.
    pub fn put<T: 'static>(&mut self, value: T) -> Option<T> {
        let old = self.values.insert(TypeId::of::<T>(), Box::new(value))?;
        old.downcast().ok().map(|boxed| *boxed)
    }

    /// Whether a `T` is stored.
    pub fn has<T: 'static>(&self) -> bool {
        self.values.contains_key(&TypeId::of::<T>())
    }

    /// The stored `T`.
    pub fn borrow<T: 'static>(&self) -> Option<&T> {
        self.values.get(&TypeId::of::<T>())?.downcast_ref()
    }

    /// The stored `T`, mutably.
    pub fn borrow_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.values.get_mut(&TypeId::of::<T>())?.downcast_mut()
    }

    /// Removes and returns the stored `T`.
    pub fn take<T: 'static>(&mut self) -> Option<T> {
        let boxed = self.values.remove(&TypeId::of::<T>())?;
        boxed.downcast().ok().map(|boxed| *boxed)
    }

    /// Runs the bodies of async entries on `handle`'s blocking pool rather than on
    /// the pool of the runtime that polls them. A host that drives many runtimes on
    /// threads of their own (each with a current-thread tokio runtime) shares one
    /// bounded pool this way.
    ///
    /// ```
    /// let pool = tokio::runtime::Runtime::new().unwrap();
    /// let mut state = opkit::OpState::default();
    /// state.set_blocking_pool(pool.handle().clone());
    /// assert!(state.blocking_pool().is_some());
    /// ```
    pub fn set_blocking_pool(&mut self, handle: tokio::runtime::Handle) {
        self.blocking_pool = Some(handle);
    }

    /// The pool set by [`OpState::set_blocking_pool`].
    pub fn blocking_pool(&self) -> Option<&tokio::runtime::Handle> {
        self.blocking_pool.as_ref()
    }

    /// The error an op gets when its `#[state]` type was never put.
    pub(crate) fn missing<T>() -> crate::OpError {
        crate::OpError::generic(format!(
            "no `{}` in OpState; put one in the extension's state setup",
            type_name::<T>()
        ))
    }
}
