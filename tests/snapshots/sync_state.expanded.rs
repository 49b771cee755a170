#![deny(warnings)]
use opkit::{OpState, op};
/// A counter kept in `OpState`.
pub struct Counter(pub u64);
/// Bumps the counter.
pub fn op_bump(counter: &mut Counter, by: u64) -> u64 {
    counter.0 += by;
    counter.0
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_bump {
    _private: (),
}
#[allow(dead_code, deprecated)]
impl op_bump {
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_bump_sync",
            mode: ::opkit::__private::OpMode::Sync,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Sync(Self::__sync),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_bump",
            doc: "Bumps the counter.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "counter",
                    ty: "&mut Counter",
                    kind: ::opkit::__private::ParamKindMeta::State,
                    optional: false,
                    schema: ::core::option::Option::None,
                },
                ::opkit::__private::ParamMeta {
                    name: "by",
                    ty: "u64",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<u64>::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<u64>::ARG_SCHEMA,
                    ),
                },
            ],
            ret: "u64",
            permission: ::core::option::Option::None,
            returns_bytes: ::opkit::__private::Probe::<u64>::RETURNS_BYTES,
            ret_schema: || {
                ::opkit::__private::Probe::<u64>::NEW
                    .__opkit_ok_probe()
                    .__opkit_ret_schema()
            },
        }
    };
    #[inline]
    fn __decode(
        __args: &[u8],
    ) -> ::core::result::Result<(u64,), ::opkit::__private::OpError> {
        struct __Slots(::core::option::Option<u64>);
        impl ::opkit::__private::ArgSlots for __Slots {
            const LEN: usize = 1usize;
            fn empty() -> Self {
                __Slots(::core::option::Option::None)
            }
            fn fill(
                &mut self,
                __index: usize,
                __json: &[u8],
            ) -> ::core::result::Result<usize, ::opkit::__private::ArgError> {
                use ::opkit::__private::{ReadScalar as _, ReadSerde as _};
                match __index {
                    0usize => {
                        ::opkit::__private::put(
                            &mut self.0,
                            (&&::opkit::__private::Arg::<u64>::NEW).__opkit_read(__json),
                        )
                    }
                    _ => ::opkit::__private::skip(__json),
                }
            }
        }
        use ::opkit::__private::ProbeDefault as _;
        let __slots: __Slots = ::opkit::__private::decode_args(Self::META, __args)?;
        ::core::result::Result::Ok((
            ::opkit::__private::Probe::<
                u64,
            >::__opkit_take(__slots.0, Self::META, 0usize)?,
        ))
    }
    fn __finish(
        __ret: u64,
        __state: &::core::cell::RefCell<::opkit::__private::OpState>,
        __out: &mut ::std::vec::Vec<u8>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        use ::opkit::__private::ProbeDefault as _;
        let __ok = ::opkit::__private::Probe::<u64>::__opkit_ok(Self::META, __ret)?;
        ::opkit::__private::Probe::of(&__ok)
            .__opkit_write(Self::META, __state, __out, __ok)
    }
    fn __sync(
        __c: &mut ::opkit::__private::SyncCall<'_>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        let (__p1,) = Self::__decode(__c.args)?;
        let __ret = {
            let mut __st = ::opkit::__private::borrow_state_mut(Self::META, __c.state)?;
            let __p0 = ::opkit::__private::state_mut::<Counter>(Self::META, &mut __st)?;
            let __ret = ::opkit::__private::catch_sync(
                Self::META,
                || op_bump(__p0, __p1),
            );
            __ret?
        };
        Self::__finish(__ret, __c.state, __c.out)
    }
}
/// Counts the open resources.
pub fn op_open(state: &OpState) -> usize {
    state.resource_table.len()
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_open {
    _private: (),
}
#[allow(dead_code, deprecated)]
impl op_open {
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_open_sync",
            mode: ::opkit::__private::OpMode::Sync,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Sync(Self::__sync),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_open",
            doc: "Counts the open resources.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "state",
                    ty: "&OpState",
                    kind: ::opkit::__private::ParamKindMeta::OpState,
                    optional: false,
                    schema: ::core::option::Option::None,
                },
            ],
            ret: "usize",
            permission: ::core::option::Option::None,
            returns_bytes: ::opkit::__private::Probe::<usize>::RETURNS_BYTES,
            ret_schema: || {
                ::opkit::__private::Probe::<usize>::NEW
                    .__opkit_ok_probe()
                    .__opkit_ret_schema()
            },
        }
    };
    #[inline]
    fn __decode(
        __args: &[u8],
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        struct __Slots();
        impl ::opkit::__private::ArgSlots for __Slots {
            const LEN: usize = 0usize;
            fn empty() -> Self {
                __Slots()
            }
            fn fill(
                &mut self,
                __index: usize,
                __json: &[u8],
            ) -> ::core::result::Result<usize, ::opkit::__private::ArgError> {
                use ::opkit::__private::{ReadScalar as _, ReadSerde as _};
                match __index {
                    _ => ::opkit::__private::skip(__json),
                }
            }
        }
        use ::opkit::__private::ProbeDefault as _;
        let __slots: __Slots = ::opkit::__private::decode_args(Self::META, __args)?;
        ::core::result::Result::Ok(())
    }
    fn __finish(
        __ret: usize,
        __state: &::core::cell::RefCell<::opkit::__private::OpState>,
        __out: &mut ::std::vec::Vec<u8>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        use ::opkit::__private::ProbeDefault as _;
        let __ok = ::opkit::__private::Probe::<usize>::__opkit_ok(Self::META, __ret)?;
        ::opkit::__private::Probe::of(&__ok)
            .__opkit_write(Self::META, __state, __out, __ok)
    }
    fn __sync(
        __c: &mut ::opkit::__private::SyncCall<'_>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        let () = Self::__decode(__c.args)?;
        let __ret = {
            let __st = ::opkit::__private::borrow_state(Self::META, __c.state)?;
            let __ret = ::opkit::__private::catch_sync(Self::META, || op_open(&*__st));
            __ret?
        };
        Self::__finish(__ret, __c.state, __c.out)
    }
}
opkit::extension!(
    pub counters, ops = [op_bump, op_open], state = | state | { state.put(Counter(0)); }
);
fn main() {
    assert_eq!(counters().decls().len(), 2);
}
