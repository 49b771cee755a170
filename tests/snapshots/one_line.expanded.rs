#![deny(warnings)]
use opkit::op;
/// Adds two numbers.
pub fn op_add(a: i64, b: i64) -> i64 {
    a + b
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_add {
    _private: (),
}
#[allow(dead_code, deprecated)]
impl op_add {
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_add_sync",
            mode: ::opkit::__private::OpMode::Sync,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Sync(Self::__sync),
        },
        ::opkit::__private::OpDecl {
            entry: "op_add_async",
            mode: ::opkit::__private::OpMode::Blocking,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Async(Self::__async),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_add",
            doc: "Adds two numbers.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "a",
                    ty: "i64",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<i64>::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<i64>::ARG_SCHEMA,
                    ),
                },
                ::opkit::__private::ParamMeta {
                    name: "b",
                    ty: "i64",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<i64>::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<i64>::ARG_SCHEMA,
                    ),
                },
            ],
            ret: "i64",
            permission: ::core::option::Option::None,
            returns_bytes: ::opkit::__private::Probe::<i64>::RETURNS_BYTES,
            ret_schema: || {
                ::opkit::__private::Probe::<i64>::NEW
                    .__opkit_ok_probe()
                    .__opkit_ret_schema()
            },
        }
    };
    #[inline]
    fn __decode(
        __args: &[u8],
    ) -> ::core::result::Result<(i64, i64), ::opkit::__private::OpError> {
        struct __Slots(::core::option::Option<i64>, ::core::option::Option<i64>);
        impl ::opkit::__private::ArgSlots for __Slots {
            const LEN: usize = 2usize;
            fn empty() -> Self {
                __Slots(::core::option::Option::None, ::core::option::Option::None)
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
                            (&&::opkit::__private::Arg::<i64>::NEW).__opkit_read(__json),
                        )
                    }
                    1usize => {
                        ::opkit::__private::put(
                            &mut self.1,
                            (&&::opkit::__private::Arg::<i64>::NEW).__opkit_read(__json),
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
                i64,
            >::__opkit_take(__slots.0, Self::META, 0usize)?,
            ::opkit::__private::Probe::<
                i64,
            >::__opkit_take(__slots.1, Self::META, 1usize)?,
        ))
    }
    fn __finish(
        __ret: i64,
        __state: &::core::cell::RefCell<::opkit::__private::OpState>,
        __out: &mut ::std::vec::Vec<u8>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        use ::opkit::__private::ProbeDefault as _;
        let __ok = ::opkit::__private::Probe::<i64>::__opkit_ok(Self::META, __ret)?;
        ::opkit::__private::Probe::of(&__ok)
            .__opkit_write(Self::META, __state, __out, __ok)
    }
    fn __sync(
        __c: &mut ::opkit::__private::SyncCall<'_>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        let (__p0, __p1) = Self::__decode(__c.args)?;
        let __ret = {
            let __ret = ::opkit::__private::catch_sync(
                Self::META,
                || op_add(__p0, __p1),
            );
            __ret?
        };
        Self::__finish(__ret, __c.state, __c.out)
    }
    fn __async(
        __c: ::opkit::__private::AsyncCall<'_>,
    ) -> ::core::result::Result<
        ::opkit::__private::OpFuture,
        ::opkit::__private::OpError,
    > {
        let (__p0, __p1) = Self::__decode(__c.args)?;
        let __p0 = ::opkit::__private::SendGuard::<i64>::new(__p0);
        let __p1 = ::opkit::__private::SendGuard::<i64>::new(__p1);
        ::opkit::__private::spawn_blocking_op(
            Self::META,
            __c.state,
            ::std::vec![],
            [],
            move |_| {
                let __ret = op_add(__p0.into_inner(), __p1.into_inner());
                ::opkit::__private::SendGuard::<i64>::new(__ret)
            },
            Self::__finish,
        )
    }
}
fn main() {
    assert_eq!(op_add(1, 2), 3);
    assert_eq!(op_add::DECLS.len(), 2);
}
