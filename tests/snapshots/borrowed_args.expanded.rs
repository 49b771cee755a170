#![deny(warnings)]
use std::path::Path;
use opkit::op;
/// Joins a name onto a path; the suffix may be left out.
pub fn op_join(
    dir: &Path,
    name: &str,
    parts: &[String],
    suffix: Option<String>,
) -> String {
    let mut out = dir.join(name).display().to_string();
    for part in parts {
        out.push_str(part);
    }
    out + suffix.as_deref().unwrap_or("")
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_join {
    _private: (),
}
#[allow(dead_code, deprecated)]
impl op_join {
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_join_sync",
            mode: ::opkit::__private::OpMode::Sync,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Sync(Self::__sync),
        },
        ::opkit::__private::OpDecl {
            entry: "op_join_async",
            mode: ::opkit::__private::OpMode::Blocking,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Async(Self::__async),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_join",
            doc: "Joins a name onto a path; the suffix may be left out.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "dir",
                    ty: "&Path",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<
                        ::std::path::PathBuf,
                    >::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<::std::path::PathBuf>::ARG_SCHEMA,
                    ),
                },
                ::opkit::__private::ParamMeta {
                    name: "name",
                    ty: "&str",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<
                        ::std::string::String,
                    >::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<::std::string::String>::ARG_SCHEMA,
                    ),
                },
                ::opkit::__private::ParamMeta {
                    name: "parts",
                    ty: "&[String]",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<
                        ::std::vec::Vec<String>,
                    >::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<::std::vec::Vec<String>>::ARG_SCHEMA,
                    ),
                },
                ::opkit::__private::ParamMeta {
                    name: "suffix",
                    ty: "Option<String>",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<Option<String>>::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<Option<String>>::ARG_SCHEMA,
                    ),
                },
            ],
            ret: "String",
            permission: ::core::option::Option::None,
            returns_bytes: ::opkit::__private::Probe::<String>::RETURNS_BYTES,
            ret_schema: || {
                ::opkit::__private::Probe::<String>::NEW
                    .__opkit_ok_probe()
                    .__opkit_ret_schema()
            },
        }
    };
    #[inline]
    fn __decode(
        __args: &[u8],
    ) -> ::core::result::Result<
        (
            ::std::path::PathBuf,
            ::std::string::String,
            ::std::vec::Vec<String>,
            Option<String>,
        ),
        ::opkit::__private::OpError,
    > {
        struct __Slots(
            ::core::option::Option<::std::path::PathBuf>,
            ::core::option::Option<::std::string::String>,
            ::core::option::Option<::std::vec::Vec<String>>,
            ::core::option::Option<Option<String>>,
        );
        impl ::opkit::__private::ArgSlots for __Slots {
            const LEN: usize = 4usize;
            fn empty() -> Self {
                __Slots(
                    ::core::option::Option::None,
                    ::core::option::Option::None,
                    ::core::option::Option::None,
                    ::core::option::Option::None,
                )
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
                            (&&::opkit::__private::Arg::<::std::path::PathBuf>::NEW)
                                .__opkit_read(__json),
                        )
                    }
                    1usize => {
                        ::opkit::__private::put(
                            &mut self.1,
                            (&&::opkit::__private::Arg::<::std::string::String>::NEW)
                                .__opkit_read(__json),
                        )
                    }
                    2usize => {
                        ::opkit::__private::put(
                            &mut self.2,
                            (&&::opkit::__private::Arg::<::std::vec::Vec<String>>::NEW)
                                .__opkit_read(__json),
                        )
                    }
                    3usize => {
                        ::opkit::__private::put(
                            &mut self.3,
                            (&&::opkit::__private::Arg::<Option<String>>::NEW)
                                .__opkit_read(__json),
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
                ::std::path::PathBuf,
            >::__opkit_take(__slots.0, Self::META, 0usize)?,
            ::opkit::__private::Probe::<
                ::std::string::String,
            >::__opkit_take(__slots.1, Self::META, 1usize)?,
            ::opkit::__private::Probe::<
                ::std::vec::Vec<String>,
            >::__opkit_take(__slots.2, Self::META, 2usize)?,
            ::opkit::__private::Probe::<
                Option<String>,
            >::__opkit_take(__slots.3, Self::META, 3usize)?,
        ))
    }
    fn __finish(
        __ret: String,
        __state: &::core::cell::RefCell<::opkit::__private::OpState>,
        __out: &mut ::std::vec::Vec<u8>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        use ::opkit::__private::ProbeDefault as _;
        let __ok = ::opkit::__private::Probe::<String>::__opkit_ok(Self::META, __ret)?;
        ::opkit::__private::Probe::of(&__ok)
            .__opkit_write(Self::META, __state, __out, __ok)
    }
    fn __sync(
        __c: &mut ::opkit::__private::SyncCall<'_>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        let (__p0, __p1, __p2, __p3) = Self::__decode(__c.args)?;
        let __ret = {
            let __ret = ::opkit::__private::catch_sync(
                Self::META,
                || op_join(&__p0, &__p1, &__p2, __p3),
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
        let (__p0, __p1, __p2, __p3) = Self::__decode(__c.args)?;
        let __p0 = ::opkit::__private::SendGuard::<::std::path::PathBuf>::new(__p0);
        let __p1 = ::opkit::__private::SendGuard::<::std::string::String>::new(__p1);
        let __p2 = ::opkit::__private::SendGuard::<::std::vec::Vec<String>>::new(__p2);
        let __p3 = ::opkit::__private::SendGuard::<Option<String>>::new(__p3);
        ::opkit::__private::spawn_blocking_op(
            Self::META,
            __c.state,
            ::std::vec![],
            [],
            move |_| {
                let __ret = op_join(
                    &__p0.into_inner(),
                    &__p1.into_inner(),
                    &__p2.into_inner(),
                    __p3.into_inner(),
                );
                ::opkit::__private::SendGuard::<String>::new(__ret)
            },
            Self::__finish,
        )
    }
}
fn main() {
    assert_eq!(op_join(Path::new("a"), "b", & [], None), "a/b");
}
