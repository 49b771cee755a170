#![deny(warnings)]
use std::sync::Mutex;
use opkit::{NewResource, OpError, Resource, op};
/// Some text held by rid.
pub struct Note(pub Mutex<String>);
impl Resource for Note {}
/// Creates a note.
pub fn op_note_new(text: String) -> NewResource<Note> {
    NewResource(Note(Mutex::new(text)))
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_note_new {
    _private: (),
}
#[allow(dead_code, deprecated)]
impl op_note_new {
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_note_new_sync",
            mode: ::opkit::__private::OpMode::Sync,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Sync(Self::__sync),
        },
        ::opkit::__private::OpDecl {
            entry: "op_note_new_async",
            mode: ::opkit::__private::OpMode::Blocking,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Async(Self::__async),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_note_new",
            doc: "Creates a note.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "text",
                    ty: "String",
                    kind: ::opkit::__private::ParamKindMeta::Serde,
                    optional: ::opkit::__private::Probe::<String>::OPTIONAL,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<String>::ARG_SCHEMA,
                    ),
                },
            ],
            ret: "NewResource<Note>",
            permission: ::core::option::Option::None,
            returns_bytes: ::opkit::__private::Probe::<NewResource<Note>>::RETURNS_BYTES,
            ret_schema: || {
                ::opkit::__private::Probe::<NewResource<Note>>::NEW
                    .__opkit_ok_probe()
                    .__opkit_ret_schema()
            },
        }
    };
    #[inline]
    fn __decode(
        __args: &[u8],
    ) -> ::core::result::Result<(String,), ::opkit::__private::OpError> {
        struct __Slots(::core::option::Option<String>);
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
                            (&&::opkit::__private::Arg::<String>::NEW)
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
                String,
            >::__opkit_take(__slots.0, Self::META, 0usize)?,
        ))
    }
    fn __finish(
        __ret: NewResource<Note>,
        __state: &::core::cell::RefCell<::opkit::__private::OpState>,
        __out: &mut ::std::vec::Vec<u8>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        use ::opkit::__private::ProbeDefault as _;
        let __ok = ::opkit::__private::Probe::<
            NewResource<Note>,
        >::__opkit_ok(Self::META, __ret)?;
        ::opkit::__private::Probe::of(&__ok)
            .__opkit_write(Self::META, __state, __out, __ok)
    }
    fn __sync(
        __c: &mut ::opkit::__private::SyncCall<'_>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        let (__p0,) = Self::__decode(__c.args)?;
        let __ret = {
            let __ret = ::opkit::__private::catch_sync(Self::META, || op_note_new(__p0));
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
        let (__p0,) = Self::__decode(__c.args)?;
        let __p0 = ::opkit::__private::SendGuard::<String>::new(__p0);
        ::opkit::__private::spawn_blocking_op(
            Self::META,
            __c.state,
            ::std::vec![],
            [],
            move |_| {
                let __ret = op_note_new(__p0.into_inner());
                ::opkit::__private::SendGuard::<NewResource<Note>>::new(__ret)
            },
            Self::__finish,
        )
    }
}
/// Reads a note.
pub fn op_note_read(note: &Note) -> Result<String, OpError> {
    note.0.lock().map(|text| text.clone()).map_err(|_| OpError::generic("poisoned"))
}
#[doc(hidden)]
#[allow(non_camel_case_types, dead_code)]
pub struct op_note_read {
    _private: (),
}
#[allow(dead_code, deprecated)]
impl op_note_read {
    /// The dispatch-table entries of this op.
    pub const DECLS: &'static [::opkit::__private::OpDecl] = &[
        ::opkit::__private::OpDecl {
            entry: "op_note_read_sync",
            mode: ::opkit::__private::OpMode::Sync,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Sync(Self::__sync),
        },
        ::opkit::__private::OpDecl {
            entry: "op_note_read_async",
            mode: ::opkit::__private::OpMode::Blocking,
            meta: Self::META,
            handler: ::opkit::__private::Handler::Async(Self::__async),
        },
    ];
    /// What this op is: parameters, return type, doc comment.
    pub const META: &'static ::opkit::__private::OpMeta = {
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: "op_note_read",
            doc: "Reads a note.",
            params: &[
                ::opkit::__private::ParamMeta {
                    name: "note",
                    ty: "&Note",
                    kind: ::opkit::__private::ParamKindMeta::Resource,
                    optional: false,
                    schema: ::core::option::Option::Some(
                        ::opkit::__private::Probe::<Note>::RID_SCHEMA,
                    ),
                },
            ],
            ret: "Result<String, OpError>",
            permission: ::core::option::Option::None,
            returns_bytes: ::opkit::__private::Probe::<
                Result<String, OpError>,
            >::RETURNS_BYTES,
            ret_schema: || {
                ::opkit::__private::Probe::<Result<String, OpError>>::NEW
                    .__opkit_ok_probe()
                    .__opkit_ret_schema()
            },
        }
    };
    #[inline]
    fn __decode(
        __args: &[u8],
    ) -> ::core::result::Result<
        (::opkit::__private::ResourceId,),
        ::opkit::__private::OpError,
    > {
        struct __Slots(::core::option::Option<::opkit::__private::ResourceId>);
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
                            (&&::opkit::__private::Arg::<
                                ::opkit::__private::ResourceId,
                            >::NEW)
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
                ::opkit::__private::ResourceId,
            >::__opkit_take(__slots.0, Self::META, 0usize)?,
        ))
    }
    fn __finish(
        __ret: Result<String, OpError>,
        __state: &::core::cell::RefCell<::opkit::__private::OpState>,
        __out: &mut ::std::vec::Vec<u8>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        use ::opkit::__private::ProbeDefault as _;
        let __ok = ::opkit::__private::Probe::<
            Result<String, OpError>,
        >::__opkit_ok(Self::META, __ret)?;
        ::opkit::__private::Probe::of(&__ok)
            .__opkit_write(Self::META, __state, __out, __ok)
    }
    fn __sync(
        __c: &mut ::opkit::__private::SyncCall<'_>,
    ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
        let (__p0,) = Self::__decode(__c.args)?;
        let __p0 = ::opkit::__private::resource::<
            Note,
        >(Self::META, __c.state, "note", __p0)?;
        let __ret = {
            let __ret = ::opkit::__private::catch_sync(
                Self::META,
                || op_note_read(&*__p0),
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
        let (__p0,) = Self::__decode(__c.args)?;
        let __cancel0 = ::opkit::__private::cancel_token(__c.state, __p0);
        let __p0 = ::opkit::__private::resource::<
            Note,
        >(Self::META, __c.state, "note", __p0)?;
        ::opkit::__private::spawn_blocking_op(
            Self::META,
            __c.state,
            ::std::vec![__cancel0],
            [],
            move |_| {
                let __ret = op_note_read(&*__p0);
                ::opkit::__private::SendGuard::<Result<String, OpError>>::new(__ret)
            },
            Self::__finish,
        )
    }
}
fn main() {
    assert_eq!(op_note_read::META.params[0].name, "note");
}
