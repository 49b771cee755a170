//! What `#[op]` leaves to the compiler: the kind of a return value and whether an
//! argument may be left out, chosen on the concrete type rather than on its spelling.
//!
//! `Probe::<T>` has inherent items for the types with a kind of their own (`Result`,
//! `ByteBuf`, `NewResource`, `Option`); for any other `T` the same names resolve to
//! the defaults of [`ProbeDefault`], since inherent items win over a trait's. So an
//! alias (`type Fallible<T> = Result<T, ApiError>`), a renamed import or a type made
//! by a `macro_rules!` gets the kind of the type it stands for, and a serializable
//! struct named `LookupResult` is a value. Inside a generic op a type parameter `T`
//! is a value of its own: it gets the defaults.
//!
//! Expansions call the items by path (`Probe::<R>::__opkit_ok`), or, where the type
//! is only known to inference, as a method on `Probe::of(&value)`; the `__opkit_`
//! names keep a user's trait in scope from taking the call.

use std::cell::RefCell;
use std::marker::PhantomData;

use serde::Serialize;

use crate::decl::OpMeta;
use crate::rid::write_result;
use crate::{ByteBuf, NewResource, OpError, OpState, Resource};

/// Chooses how an op handles a `T`: see the module docs.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// The probe of `value`'s type, for a method call that inference resolves.
    #[inline]
    pub const fn of(_value: &T) -> Self {
        Probe(PhantomData)
    }
}

impl<T, E> Probe<Result<T, E>> {
    /// A fallible return: the success value, or the error as an `OpError` naming the op.
    #[inline]
    pub fn __opkit_ok(meta: &'static OpMeta, ret: Result<T, E>) -> Result<T, OpError>
    where
        E: Into<OpError>,
    {
        match ret {
            Ok(value) => Ok(value),
            Err(err) => Err(crate::__private::op_error(meta, err)),
        }
    }
}

impl Probe<ByteBuf> {
    /// A `ByteBuf` result is the bytes themselves.
    pub const RETURNS_BYTES: bool = true;

    /// Hands the bytes over as they are: moved into `out` when `out` is empty.
    #[inline]
    pub fn __opkit_write(
        self,
        _meta: &'static OpMeta,
        _state: &RefCell<OpState>,
        out: &mut Vec<u8>,
        bytes: ByteBuf,
    ) -> Result<(), OpError> {
        crate::__private::write_bytes(out, bytes)
    }
}

impl<E> Probe<Result<ByteBuf, E>> {
    /// A fallible `ByteBuf` result is the bytes themselves too.
    pub const RETURNS_BYTES: bool = true;
}

impl<T: Resource> Probe<NewResource<T>> {
    /// Adds the resource to the caller's table and writes its rid.
    #[inline]
    pub fn __opkit_write(
        self,
        meta: &'static OpMeta,
        state: &RefCell<OpState>,
        out: &mut Vec<u8>,
        resource: NewResource<T>,
    ) -> Result<(), OpError> {
        crate::__private::write_resource(meta, state, out, resource)
    }
}

impl<T> Probe<Option<T>> {
    /// An `Option` argument may be left out.
    pub const OPTIONAL: bool = true;

    /// A left-out `Option` argument is `None`, as is a `null` one.
    #[inline]
    pub fn __opkit_take(
        slot: Option<Option<T>>,
        _meta: &'static OpMeta,
        _index: usize,
    ) -> Result<Option<T>, OpError> {
        Ok(slot.flatten())
    }
}

/// The defaults of [`Probe`], for every type without a kind of its own: an infallible
/// serializable value, a required argument. In scope (as `_`) wherever an expansion
/// probes.
pub trait ProbeDefault<T> {
    /// Whether the result is raw bytes rather than JSON: only for `ByteBuf`.
    const RETURNS_BYTES: bool = false;

    /// Whether the argument may be left out: only for `Option`.
    const OPTIONAL: bool = false;

    /// An infallible return is its own success value.
    #[inline]
    fn __opkit_ok(_meta: &'static OpMeta, ret: T) -> Result<T, OpError> {
        Ok(ret)
    }

    /// A required argument: an error naming it when it was left out.
    #[inline]
    fn __opkit_take(slot: Option<T>, meta: &'static OpMeta, index: usize) -> Result<T, OpError> {
        match slot {
            Some(value) => Ok(value),
            None => Err(crate::args::missing(meta, index)),
        }
    }

    /// A value result is serialized; a [`Rid`](crate::Rid) inside it adds its resource
    /// to the caller's table.
    #[inline]
    fn __opkit_write(
        self,
        meta: &'static OpMeta,
        state: &RefCell<OpState>,
        out: &mut Vec<u8>,
        value: T,
    ) -> Result<(), OpError>
    where
        Self: Sized,
        T: Serialize,
    {
        write_result(meta, state, out, &value)
    }
}

impl<T> ProbeDefault<T> for Probe<T> {}
