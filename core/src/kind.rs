//! What `#[op]` leaves to the compiler: the kind of a return value, whether an
//! argument may be left out and the JSON Schema of each, chosen on the concrete type
//! rather than on its spelling.
//!
//! `Probe::<T>` has inherent items for the types with a kind of their own (`Result`,
//! `ByteBuf`, `NewResource`, `Option`); for any other `T` the same names resolve to
//! the defaults of [`ProbeDefault`], since inherent items win over a trait's. So an
//! alias (`type Fallible<T> = Result<T, ApiError>`), a renamed import or a type made
//! by a `macro_rules!` gets the kind of the type it stands for, and a serializable
//! struct named `LookupResult` is a value. Inside a generic op a type parameter `T`
//! is a value of its own: it gets the defaults.
//!
//! Schemas work the same way: `Probe::<T>::ARG_SCHEMA` is a function that makes
//! `schemars`' schema of `T` where `T: JsonSchema` (an inherent item whose bound holds
//! wins), and the fallback of [`ProbeDefault`] where it does not (the bound fails and
//! the trait's item is next), so a type without `JsonSchema` still compiles. They are
//! `fn() -> Value`s, as `OpMeta` holds them: nothing is built until a schema is asked
//! for. A result's schema is of the success value, and an item of
//! `Probe<Result<T, E>>`, generic over `T`, cannot ask whether `T` has a schema; it
//! can only hand over `Probe<T>` (`__opkit_ok_probe`), so the expansion calls
//! `__opkit_ret_schema` on that, where `T` is concrete, in a non-capturing closure.
//!
//! Expansions call the items by path (`Probe::<R>::__opkit_ok`), or, where the type
//! is only known to inference, as a method on `Probe::of(&value)`; the `__opkit_`
//! names keep a user's trait in scope from taking the call.

use std::cell::RefCell;
use std::marker::PhantomData;

use serde::Serialize;
use serde_json::Value;

use crate::decl::OpMeta;
use crate::rid::write_result;
use crate::schema;
use crate::{ByteBuf, NewResource, OpError, OpState, Resource};

/// Chooses how an op handles a `T`: see the module docs.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// The probe of `T`, for a method call.
    pub const NEW: Self = Probe(PhantomData);

    /// The probe of `value`'s type, for a method call that inference resolves.
    #[inline]
    pub const fn of(_value: &T) -> Self {
        Probe(PhantomData)
    }

    /// The schema of a `#[resource]` parameter whose resource is a `T`: a rid.
    pub const RID_SCHEMA: fn() -> Value = schema::rid::<T>;

    /// The schema of an optional `#[resource]` parameter: a rid or `null`.
    pub const OPTIONAL_RID_SCHEMA: fn() -> Value = schema::optional_rid::<T>;
}

impl<T: schemars::JsonSchema> Probe<T> {
    /// The schema of an argument of a type with one, as it is deserialized.
    pub const ARG_SCHEMA: fn() -> Value = schema::for_argument::<T>;

    /// The schema of a result of a type with one, as it is serialized.
    pub fn __opkit_ret_schema(self) -> Value {
        schema::for_result::<T>()
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

    /// A fallible return's result is its success value: the probe of `T`.
    pub const fn __opkit_ok_probe(self) -> Probe<T> {
        Probe(PhantomData)
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

    /// A `ByteBuf` result is bytes, base64 over JSON-RPC.
    pub fn __opkit_ret_schema(self) -> Value {
        schema::bytes()
    }

    /// A `#[buffer]` parameter is bytes too, beside the arguments.
    pub const BUFFER_SCHEMA: fn() -> Value = schema::buffer;
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

    /// A new resource's result is its rid.
    pub fn __opkit_ret_schema(self) -> Value {
        schema::rid::<T>()
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

    /// An infallible return's result is the value itself.
    #[inline]
    fn __opkit_ok_probe(self) -> Probe<T>
    where
        Self: Sized,
    {
        Probe::NEW
    }

    /// The schema of an argument of a type without one: any value, the type named.
    const ARG_SCHEMA: fn() -> Value = schema::fallback::<T>;

    /// The schema of a result of a type without one: any value, the type named.
    fn __opkit_ret_schema(self) -> Value
    where
        Self: Sized,
    {
        schema::fallback::<T>()
    }
}

impl<T> ProbeDefault<T> for Probe<T> {}
