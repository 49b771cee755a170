#![deny(warnings)]
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use opkit::{OpError, OpState, op};
/// Sleeps, then reports how many resources are open.
pub async fn op_sleep(ms: u64, state: Rc<RefCell<OpState>>) -> Result<usize, OpError> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(state.borrow().resource_table.len())
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_sleep {
    _private: (),
}
#[allow(dead_code, deprecated)]
impl op_sleep {
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_sleep_async",
            mode: ::opkit::__private::OpMode::Async,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Async(Self::__async),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_sleep",
            doc: "Sleeps, then reports how many resources are open.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "ms",
                    ty: "u64",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<u64>::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<u64>::ARG_SCHEMA,
                    ),
                },
                ::opkit::__private::ParamMeta {
                    name: "state",
                    ty: "Rc<RefCell<OpState>>",
                    kind: ::opkit::__private::ParamKindMeta::OpState,
                    optional: false,
                    schema: ::core::option::Option::None,
                },
            ],
            ret: "Result<usize, OpError>",
            permission: ::core::option::Option::None,
            returns_bytes: ::opkit::__private::Probe::<
                Result<usize, OpError>,
            >::RETURNS_BYTES,
            ret_schema: || {
                ::opkit::__private::Probe::<Result<usize, OpError>>::NEW
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
        __ret: Result<usize, OpError>,
        __state: &::core::cell::RefCell<::opkit::__private::OpState>,
        __out: &mut ::std::vec::Vec<u8>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        use ::opkit::__private::ProbeDefault as _;
        let __ok = ::opkit::__private::Probe::<
            Result<usize, OpError>,
        >::__opkit_ok(Self::META, __ret)?;
        ::opkit::__private::Probe::of(&__ok)
            .__opkit_write(Self::META, __state, __out, __ok)
    }
    fn __async(
        __c: ::opkit::__private::AsyncCall<'_>,
    ) -> ::core::result::Result<
        ::opkit::__private::OpFuture,
        ::opkit::__private::OpError,
    > {
        let (__p0,) = Self::__decode(__c.args)?;
        let __p1 = <::std::rc::Rc<_> as ::core::clone::Clone>::clone(__c.state);
        ::opkit::__private::spawn_async_op(
            Self::META,
            __c.state,
            ::std::vec![],
            ::core::option::Option::None,
            async move {
                let __ret = op_sleep(__p0, __p1).await;
                (__ret, ::std::vec::Vec::new())
            },
            Self::__finish,
        )
    }
}
fn main() {
    assert_eq!(op_sleep::DECLS[0].mode, opkit::OpMode::Async);
}
