//! `OpState`: the per-runtime type map that `#[state]` parameters borrow from.

use std::any::{Any, TypeId, type_name};

use rustc_hash::FxHashMap;

use crate::executor::Executor;
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
    /// Where async entries run their bodies; `None`: `spawn_blocking` on the calling
    /// thread's runtime. `Runtime::new` sets the thread's batched executor.
    executor: Option<Executor>,
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

    /// Runs the bodies of async entries with one `spawn_blocking` per call on
    /// `handle`'s blocking pool: [`Executor::SpawnBlocking`] with a handle.
    ///
    /// ```
    /// let pool = tokio::runtime::Runtime::new().unwrap();
    /// let mut state = opkit::OpState::default();
    /// state.set_blocking_pool(pool.handle().clone());
    /// assert!(matches!(state.executor(), Some(opkit::Executor::SpawnBlocking(Some(_)))));
    /// ```
    pub fn set_blocking_pool(&mut self, handle: tokio::runtime::Handle) {
        self.executor = Some(Executor::SpawnBlocking(Some(handle)));
    }

    /// Where the bodies of this runtime's blocking ops run from now on.
    pub fn set_executor(&mut self, executor: Executor) {
        self.executor = Some(executor);
    }

    /// The executor set by [`OpState::set_executor`] (or by `Runtime::new`, which sets
    /// the thread's batched executor when the extensions set none).
    pub fn executor(&self) -> Option<&Executor> {
        self.executor.as_ref()
    }

    /// The error an op gets when its `#[state]` type was never put.
    pub(crate) fn missing<T>() -> crate::OpError {
        crate::OpError::generic(format!(
            "no `{}` in OpState; put one in the extension's state setup",
            type_name::<T>()
        ))
    }
}
