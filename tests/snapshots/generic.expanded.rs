#![deny(warnings)]
use opkit::op;
/// What `op_scale` multiplies by.
pub trait Factor: Send + Sync + 'static {
    const BY: f64;
}
/// Ten.
pub struct Ten;
impl Factor for Ten {
    const BY: f64 = 10.0;
}
/// Scales a value by `F`, `N` times.
pub fn op_scale<F, const N: usize>(value: f64) -> f64
where
    F: Factor,
{
    (0..N).fold(value, |value, _| value * F::BY)
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_scale<F, const N: usize>
where
    F: Factor,
{
    _private: ::core::marker::PhantomData<fn() -> (F,)>,
}
#[allow(dead_code, deprecated)]
impl<F, const N: usize> op_scale<F, N>
where
    F: Factor,
{
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_scale_sync",
            mode: ::opkit::__private::OpMode::Sync,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Sync(Self::__sync),
        },
        ::opkit::__private::OpDecl {
            entry: "op_scale_async",
            mode: ::opkit::__private::OpMode::Blocking,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Async(Self::__async),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_scale",
            doc: "Scales a value by `F`, `N` times.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "value",
                    ty: "f64",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<f64>::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<f64>::ARG_SCHEMA,
                    ),
                },
            ],
            ret: "f64",
            permission: ::core::option::Option::None,
            returns_bytes: ::opkit::__private::Probe::<f64>::RETURNS_BYTES,
            ret_schema: || {
                ::opkit::__private::Probe::<f64>::NEW
                    .__opkit_ok_probe()
                    .__opkit_ret_schema()
            },
        }
    };
    #[inline]
    fn __decode(
        __args: &[u8],
    ) -> ::core::result::Result<(f64,), ::opkit::__private::OpError> {
        struct __Slots<F, const N: usize>(
            ::core::option::Option<f64>,
            ::core::marker::PhantomData<fn() -> (F,)>,
        )
        where
            F: Factor;
        impl<F, const N: usize> ::opkit::__private::ArgSlots for __Slots<F, N>
        where
            F: Factor,
        {
            const LEN: usize = 1usize;
            fn empty() -> Self {
                __Slots(::core::option::Option::None, ::core::marker::PhantomData)
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
                            (&&::opkit::__private::Arg::<f64>::NEW).__opkit_read(__json),
                        )
                    }
                    _ => ::opkit::__private::skip(__json),
                }
            }
        }
        use ::opkit::__private::ProbeDefault as _;
        let __slots: __Slots<F, N> = ::opkit::__private::decode_args(
            Self::META,
            __args,
        )?;
        ::core::result::Result::Ok((
            ::opkit::__private::Probe::<
                f64,
            >::__opkit_take(__slots.0, Self::META, 0usize)?,
        ))
    }
    fn __finish(
        __ret: f64,
        __state: &::core::cell::RefCell<::opkit::__private::OpState>,
        __out: &mut ::std::vec::Vec<u8>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        use ::opkit::__private::ProbeDefault as _;
        let __ok = ::opkit::__private::Probe::<f64>::__opkit_ok(Self::META, __ret)?;
        ::opkit::__private::Probe::of(&__ok)
            .__opkit_write(Self::META, __state, __out, __ok)
    }
    fn __sync(
        __c: &mut ::opkit::__private::SyncCall<'_>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        let (__p0,) = Self::__decode(__c.args)?;
        let __ret = {
            let __ret = ::opkit::__private::catch_sync(
                Self::META,
                || op_scale::<F, N>(__p0),
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
    >
    where
        F: 'static,
    {
        let (__p0,) = Self::__decode(__c.args)?;
        let __p0 = ::opkit::__private::SendGuard::<f64>::new(__p0);
        ::opkit::__private::spawn_blocking_op(
            Self::META,
            __c.state,
            ::std::vec![],
            [],
            move |_| {
                let __ret = op_scale::<F, N>(__p0.into_inner());
                ::opkit::__private::SendGuard::<f64>::new(__ret)
            },
            Self::__finish,
        )
    }
}
fn main() {
    assert_eq!(op_scale::< Ten, 2 > (1.5), 150.0);
    assert_eq!(op_scale::< Ten, 2 >::DECLS.len(), 2);
}
