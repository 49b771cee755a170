#![deny(warnings)]
use opkit::op;
/// Copies `src` into `dst` and returns how many bytes it copied.
pub fn op_copy(dst: &mut [u8], src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    dst[..n].copy_from_slice(&src[..n]);
    n
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_copy {
    _private: (),
}
#[allow(dead_code, deprecated)]
impl op_copy {
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_copy_async",
            mode: ::opkit::__private::OpMode::Blocking,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Async(Self::__async),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_copy",
            doc: "Copies `src` into `dst` and returns how many bytes it copied.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "dst",
                    ty: "&mut [u8]",
                    kind: ::opkit::__private::ParamKindMeta::Buffer,
                    optional: false,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<
                            ::opkit::__private::ByteBuf,
                        >::BUFFER_SCHEMA,
                    ),
                },
                ::opkit::__private::ParamMeta {
                    name: "src",
                    ty: "&[u8]",
                    kind: ::opkit::__private::ParamKindMeta::Buffer,
                    optional: false,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<
                            ::opkit::__private::ByteBuf,
                        >::BUFFER_SCHEMA,
                    ),
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
    fn __async(
        __c: ::opkit::__private::AsyncCall<'_>,
    ) -> ::core::result::Result<
        ::opkit::__private::OpFuture,
        ::opkit::__private::OpError,
    > {
        let () = Self::__decode(__c.args)?;
        let [__p0, __p1] = ::opkit::__private::take_bufs(
            Self::META,
            __c.bufs,
            ["dst", "src"],
        )?;
        ::opkit::__private::spawn_blocking_op(
            Self::META,
            __c.state,
            ::std::vec![],
            [__p0, __p1],
            move |__lent| {
                let [__p0, __p1] = __lent;
                let __ret = op_copy(&mut **__p0, &**__p1);
                ::opkit::__private::SendGuard::<usize>::new(__ret)
            },
            Self::__finish,
        )
    }
}
/// Fills `out` with `byte` after a yield; `log` is taken.
pub async fn op_fill_later(out: &mut [u8], byte: u8, log: Vec<u8>) -> usize {
    std::future::ready(()).await;
    out.fill(byte);
    out.len() + log.len()
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_fill_later {
    _private: (),
}
#[allow(dead_code, deprecated)]
impl op_fill_later {
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_fill_later_async",
            mode: ::opkit::__private::OpMode::Async,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Async(Self::__async),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_fill_later",
            doc: "Fills `out` with `byte` after a yield; `log` is taken.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "out",
                    ty: "&mut [u8]",
                    kind: ::opkit::__private::ParamKindMeta::Buffer,
                    optional: false,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<
                            ::opkit::__private::ByteBuf,
                        >::BUFFER_SCHEMA,
                    ),
                },
                ::opkit::__private::ParamMeta {
                    name: "byte",
                    ty: "u8",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<u8>::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<u8>::ARG_SCHEMA,
                    ),
                },
                ::opkit::__private::ParamMeta {
                    name: "log",
                    ty: "Vec<u8>",
                    kind: ::opkit::__private::ParamKindMeta::Buffer,
                    optional: false,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<
                            ::opkit::__private::ByteBuf,
                        >::BUFFER_SCHEMA,
                    ),
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
    ) -> ::core::result::Result<(u8,), ::opkit::__private::OpError> {
        struct __Slots(::core::option::Option<u8>);
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
                            (&&::opkit::__private::Arg::<u8>::NEW).__opkit_read(__json),
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
                u8,
            >::__opkit_take(__slots.0, Self::META, 0usize)?,
        ))
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
    fn __async(
        __c: ::opkit::__private::AsyncCall<'_>,
    ) -> ::core::result::Result<
        ::opkit::__private::OpFuture,
        ::opkit::__private::OpError,
    > {
        let (__p1,) = Self::__decode(__c.args)?;
        let [__p0, __p2] = ::opkit::__private::take_bufs(
            Self::META,
            __c.bufs,
            ["out", "log"],
        )?;
        let __lent = ::opkit::__private::LentBufs::default();
        ::opkit::__private::spawn_async_op(
            Self::META,
            __c.state,
            ::std::vec![],
            ::core::option::Option::Some(::core::clone::Clone::clone(&__lent)),
            async move {
                let mut __keep = __lent.keep([__p0, __p2]);
                let [__p0, __p2] = __keep.each_mut();
                let __ret = op_fill_later(&mut **__p0, __p1, ::core::mem::take(__p2))
                    .await;
                (__ret, __keep.give_back())
            },
            Self::__finish,
        )
    }
}
fn main() {
    assert_eq!(op_copy::DECLS[0].entry, "op_copy_async");
    assert_eq!(op_fill_later::DECLS[0].entry, "op_fill_later_async");
}
