//! The table's entries as JS functions: arguments to JSON and buffers, results and
//! errors back to JS values.

use std::rc::{Rc, Weak};

use opkit::{OpError, OpId, OpMeta, ParamKindMeta, ParamMeta};
use rquickjs::function::{IntoJsFunc, ParamRequirement, Params};
use rquickjs::{
    Array, Atom, Ctx, Exception, Function, Object, Persistent, Promise, TypedArray, Value,
};

use crate::host::{Host, InFlight};

/// A call's arguments as the entry takes them.
pub(crate) struct Args<'js> {
    pub(crate) json: Vec<u8>,
    pub(crate) bufs: Vec<Vec<u8>>,
    /// The `&mut [u8]` buffers' arrays, by buffer index, to copy the bytes back into.
    pub(crate) out_arrays: Vec<(usize, TypedArray<'js, u8>)>,
}

/// The parameters a script passes: everything but state.
fn visible(meta: &'static OpMeta) -> impl Iterator<Item = &'static ParamMeta> {
    meta.params.iter().filter(|p| {
        matches!(
            p.kind,
            ParamKindMeta::Serde | ParamKindMeta::Resource | ParamKindMeta::Buffer
        )
    })
}

fn type_error(meta: &'static OpMeta, msg: String) -> OpError {
    OpError::type_error(msg).with_op(meta.name)
}

/// One plain object whose keys are all parameter names is a call by name.
fn is_named<'js>(
    ctx: &Ctx<'js>,
    meta: &'static OpMeta,
    args: &Params<'_, 'js>,
) -> Option<(Object<'js>, Vec<Atom<'js>>)> {
    if args.len() != 1 {
        return None;
    }
    let only = args.arg(0)?;
    let obj = only.as_object()?;
    if only.is_array() || only.is_function() || obj.as_typed_array::<u8>().is_some() {
        return None;
    }
    // The names as atoms, compared with the keys as atoms: no key is made a string.
    let names = visible(meta)
        .map(|p| Atom::from_str(ctx.clone(), p.name))
        .collect::<rquickjs::Result<Vec<_>>>();
    let names = match names {
        Ok(names) => names,
        Err(err) => {
            clear(ctx, &err);
            return None;
        }
    };
    let mut any = false;
    for key in obj.keys::<Atom<'js>>() {
        let key = match key {
            Ok(key) => key,
            Err(err) => {
                clear(ctx, &err);
                return None;
            }
        };
        if !names.contains(&key) {
            return None;
        }
        any = true;
    }
    any.then(|| (obj.clone(), names))
}

fn buffer_of<'js>(
    meta: &'static OpMeta,
    param: &ParamMeta,
    value: &Value<'js>,
) -> Result<(Vec<u8>, TypedArray<'js, u8>), OpError> {
    let array = value
        .as_object()
        .and_then(|obj| obj.as_typed_array::<u8>())
        .ok_or_else(|| {
            type_error(
                meta,
                format!(
                    "parameter `{}` takes a Uint8Array, got {}",
                    param.name,
                    value.type_name()
                ),
            )
        })?;
    // SAFETY: the bytes are copied at once, before any JS runs.
    let bytes = unsafe { array.as_bytes() }
        .ok_or_else(|| {
            type_error(
                meta,
                format!(
                    "parameter `{}`: the Uint8Array's buffer is detached",
                    param.name
                ),
            )
        })?
        .to_vec();
    Ok((bytes, array.clone()))
}

/// Splits a script's arguments into the JSON the entry decodes and its buffers.
///
/// Numbers, strings, booleans, `null` and `undefined` are written here as
/// `JSON.stringify` would write them, with no JS object made and no JSON text parsed
/// back; an argument of any other kind (an object, an array) sends the whole call
/// through `JSON.stringify`, which is faster at those than a walk over the FFI.
pub(crate) fn convert_args<'js>(
    ctx: &Ctx<'js>,
    meta: &'static OpMeta,
    args: &Params<'_, 'js>,
    scratch: Vec<u8>,
) -> Result<Args<'js>, OpError> {
    let mut out = Args {
        json: scratch,
        bufs: Vec::new(),
        out_arrays: Vec::new(),
    };
    let js_err = |err: rquickjs::Error| {
        type_error(meta, format!("the arguments cannot be converted: {err}"))
    };
    let take_buffer = |out: &mut Args<'js>, param: &ParamMeta, value: &Value<'js>| {
        let (bytes, array) = buffer_of(meta, param, value)?;
        if param.ty.contains("mut") {
            out.out_arrays.push((out.bufs.len(), array));
        }
        out.bufs.push(bytes);
        Ok::<_, OpError>(())
    };
    out.json.clear();
    let plain: Value<'js> = if let Some((named, names)) = is_named(ctx, meta, args) {
        out.json.push(b'{');
        let mut simple = true;
        for (param, name) in visible(meta).zip(&names) {
            let value: Value<'js> = named.get(name.clone()).map_err(js_err)?;
            if param.kind == ParamKindMeta::Buffer {
                take_buffer(&mut out, param, &value)?;
            } else if simple && !value.is_undefined() {
                if out.json.len() > 1 {
                    out.json.push(b',');
                }
                write_json_string(&mut out.json, param.name);
                out.json.push(b':');
                simple = write_scalar(&mut out.json, &value);
            }
        }
        if simple {
            out.json.push(b'}');
            return Ok(out);
        }
        let object = Object::new(ctx.clone()).map_err(js_err)?;
        let plain = visible(meta).zip(&names);
        for (param, name) in plain.filter(|(p, _)| p.kind != ParamKindMeta::Buffer) {
            let value: Value<'js> = named.get(name.clone()).map_err(js_err)?;
            if !value.is_undefined() {
                object.set(param.name, value).map_err(js_err)?;
            }
        }
        object.into_value()
    } else {
        let count = visible(meta).count();
        if args.len() > count {
            return Err(type_error(
                meta,
                format!("takes {count} arguments, got {}", args.len()),
            ));
        }
        out.json.push(b'[');
        let mut simple = true;
        for (position, param) in visible(meta).enumerate() {
            let value = args.arg(position);
            if param.kind == ParamKindMeta::Buffer {
                let value = value.unwrap_or_else(|| Value::new_undefined(ctx.clone()));
                take_buffer(&mut out, param, &value)?;
            } else if let (true, Some(value)) = (simple, value) {
                if out.json.len() > 1 {
                    out.json.push(b',');
                }
                simple = write_scalar(&mut out.json, &value);
            }
        }
        if simple {
            out.json.push(b']');
            return Ok(out);
        }
        let array = Array::new(ctx.clone()).map_err(js_err)?;
        let given = visible(meta).enumerate().take(args.len());
        let plain = given.filter(|(_, p)| p.kind != ParamKindMeta::Buffer);
        for (index, (position, _)) in plain.enumerate() {
            let value = args
                .arg(position)
                .unwrap_or_else(|| Value::new_undefined(ctx.clone()));
            array.set(index, value).map_err(js_err)?;
        }
        array.into_value()
    };
    let json = ctx.json_stringify(plain).map_err(|err| {
        type_error(
            meta,
            format!("the arguments are not JSON: {}", describe_caught(ctx, err)),
        )
    })?;
    let json = json
        .map(|s| s.to_string())
        .transpose()
        .map_err(js_err)?
        .unwrap_or_else(|| "[]".to_owned());
    out.json.clear();
    out.json.extend_from_slice(json.as_bytes());
    Ok(out)
}

/// Writes `value` as `JSON.stringify` writes it inside an array (`undefined` as
/// `null`) when it is a number, string, boolean, null or undefined; `false` for any
/// other kind, with `json` left partly written.
fn write_scalar(json: &mut Vec<u8>, value: &Value<'_>) -> bool {
    use std::io::Write as _;
    if let Some(n) = value.as_int() {
        json.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    } else if let Some(f) = value.as_float() {
        if f == 0.0 {
            // -0 too, as JSON.stringify writes it.
            json.push(b'0');
        } else if f.is_finite() {
            // Rust writes no exponent, only digits: valid JSON for every finite f64.
            let _ = write!(json, "{f}");
        } else {
            json.extend_from_slice(b"null");
        }
    } else if let Some(b) = value.as_bool() {
        json.extend_from_slice(if b { b"true" } else { b"false" });
    } else if value.is_null() || value.is_undefined() {
        json.extend_from_slice(b"null");
    } else if let Some(s) = value.as_string() {
        match s.to_string() {
            Ok(s) => write_json_string(json, &s),
            Err(_) => return false,
        }
    } else {
        return false;
    }
    true
}

fn write_json_string(json: &mut Vec<u8>, s: &str) {
    use std::io::Write as _;
    json.push(b'"');
    for c in s.chars() {
        match c {
            '"' => json.extend_from_slice(b"\\\""),
            '\\' => json.extend_from_slice(b"\\\\"),
            '\n' => json.extend_from_slice(b"\\n"),
            '\r' => json.extend_from_slice(b"\\r"),
            '\t' => json.extend_from_slice(b"\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(json, "\\u{:04x}", u32::from(c));
            }
            c => {
                let mut utf8 = [0; 4];
                json.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    json.push(b'"');
}

/// A result of one JSON number, `true`, `false` or `null` made here; anything else
/// is parsed by JSON.parse.
fn scalar_value<'js>(ctx: &Ctx<'js>, bytes: &[u8]) -> Option<Value<'js>> {
    match bytes {
        b"true" => return Some(Value::new_bool(ctx.clone(), true)),
        b"false" => return Some(Value::new_bool(ctx.clone(), false)),
        b"null" => return Some(Value::new_null(ctx.clone())),
        [b'-' | b'0'..=b'9', ..] => {}
        _ => return None,
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if let Ok(n) = text.parse::<i32>() {
        return Some(Value::new_int(ctx.clone(), n));
    }
    text.parse::<f64>()
        .ok()
        .map(|f| Value::new_number(ctx.clone(), f))
}

/// Copies the returned buffers into the arrays of the `&mut [u8]` parameters.
pub(crate) fn copy_back(arrays: &[(usize, TypedArray<'_, u8>)], bufs: &[Vec<u8>]) {
    for (index, array) in arrays {
        let (Some(buf), Some(raw)) = (bufs.get(*index), array.as_raw()) else {
            continue;
        };
        let n = buf.len().min(raw.len());
        // SAFETY: no JS runs between `as_raw` and the copy, and `n` fits both.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), raw.as_ptr().cast::<u8>(), n) };
    }
}

/// An op's result as a JS value: bytes as a `Uint8Array`, JSON parsed.
///
/// The bytes are handed to the engine as they are, unless its heap is capped: an
/// array over host memory is not counted against QuickJS's limit, so a script could
/// hold any number of large results. There they are copied into the engine's heap,
/// which throws "out of memory" at the limit.
pub(crate) fn result_value<'js>(
    ctx: &Ctx<'js>,
    host: &Host,
    meta: &'static OpMeta,
    bytes: Vec<u8>,
) -> rquickjs::Result<Value<'js>> {
    if meta.returns_bytes {
        let array = if host.memory_limited.get() {
            TypedArray::<u8>::new_copy(ctx.clone(), &bytes)?
        } else {
            TypedArray::<u8>::new(ctx.clone(), bytes)?
        };
        return Ok(array.into_value());
    }
    result_slice_value(ctx, &bytes)
}

/// A JSON result as a JS value.
fn result_slice_value<'js>(ctx: &Ctx<'js>, bytes: &[u8]) -> rquickjs::Result<Value<'js>> {
    if bytes.is_empty() {
        return Ok(Value::new_undefined(ctx.clone()));
    }
    if let Some(value) = scalar_value(ctx, bytes) {
        return Ok(value);
    }
    ctx.json_parse(bytes)
}

/// An `OpError` as a JS `Error`: `name` the class, `code` the errno name, `op` the op.
pub(crate) fn error_value<'js>(ctx: &Ctx<'js>, err: &OpError) -> rquickjs::Result<Value<'js>> {
    let message = match err.op() {
        Some(op) => format!("{op}: {}", err.message()),
        None => err.message().to_owned(),
    };
    let exception = Exception::from_message(ctx.clone(), &message)?;
    exception.set("name", err.class().as_str())?;
    if let Some(code) = err.code() {
        exception.set("code", code)?;
    }
    if let Some(op) = err.op() {
        exception.set("op", op)?;
    }
    Ok(exception.into_value())
}

fn throw(ctx: &Ctx<'_>, err: &OpError) -> rquickjs::Error {
    match error_value(ctx, err) {
        Ok(value) => ctx.throw(value),
        Err(err) => err,
    }
}

fn host_gone() -> OpError {
    OpError::generic("the runtime has shut down")
}

/// Defines `opkit.ops.<entry>` for every entry of the table.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, host: &Rc<Host>) -> rquickjs::Result<()> {
    let opkit = Object::new(ctx.clone())?;
    let ops = Object::new(ctx.clone())?;
    let table = host.ops.borrow().table().clone();
    for entry in table.entries() {
        let function = Function::new(
            ctx.clone(),
            EntryFn {
                host: Rc::downgrade(host),
                id: entry.id,
                meta: entry.decl.meta,
                is_async: entry.decl.mode.is_async(),
            },
        )?;
        function.set_name(entry.decl.entry)?;
        ops.set(entry.decl.entry, function)?;
    }
    opkit.set("ops", ops)?;
    ctx.globals().set("opkit", opkit)?;
    Ok(())
}

/// One entry as a JS function. Its arguments are read where QuickJS passed them, with
/// no list of them collected first.
struct EntryFn {
    host: Weak<Host>,
    id: OpId,
    meta: &'static OpMeta,
    is_async: bool,
}

impl<'js> IntoJsFunc<'js, EntryFn> for EntryFn {
    fn param_requirements() -> ParamRequirement {
        ParamRequirement::any()
    }

    fn call<'a>(&self, params: Params<'a, 'js>) -> rquickjs::Result<Value<'js>> {
        let ctx = params.ctx();
        if self.is_async {
            call_async(ctx, &self.host, self.id, self.meta, &params).map(Promise::into_value)
        } else {
            call_sync(ctx, &self.host, self.id, self.meta, &params)
        }
    }
}

fn call_sync<'js>(
    ctx: &Ctx<'js>,
    host: &Weak<Host>,
    id: OpId,
    meta: &'static OpMeta,
    args: &Params<'_, 'js>,
) -> rquickjs::Result<Value<'js>> {
    let host = host.upgrade().ok_or_else(|| throw(ctx, &host_gone()))?;
    // The argument and result buffers are reused from call to call; taken out of
    // their cells (not borrowed), so a call made while converting gets fresh ones.
    let mut args =
        convert_args(ctx, meta, args, host.args_scratch.take()).map_err(|err| throw(ctx, &err))?;
    let mut out = host.out_scratch.take();
    out.clear();
    let result = host
        .ops
        .borrow()
        .call_sync_into(id, &args.json, &mut args.bufs, &mut out);
    copy_back(&args.out_arrays, &args.bufs);
    host.keep_scratch(&host.args_scratch, args.json);
    match result {
        Ok(()) if meta.returns_bytes => result_value(ctx, &host, meta, out),
        Ok(()) => {
            let value = result_slice_value(ctx, &out);
            host.keep_scratch(&host.out_scratch, out);
            value
        }
        Err(err) => Err(throw(ctx, &host.explain(meta, err))),
    }
}

fn call_async<'js>(
    ctx: &Ctx<'js>,
    host: &Weak<Host>,
    id: OpId,
    meta: &'static OpMeta,
    args: &Params<'_, 'js>,
) -> rquickjs::Result<Promise<'js>> {
    let host = host.upgrade().ok_or_else(|| throw(ctx, &host_gone()))?;
    let (promise, resolve, reject) = ctx.promise()?;
    match convert_args(ctx, meta, args, Vec::new()) {
        Err(err) => {
            reject.call::<_, ()>((error_value(ctx, &err)?,))?;
        }
        Ok(args) => {
            let promise_id = host.next_promise_id();
            host.in_flight.borrow_mut().insert(
                promise_id,
                InFlight {
                    meta,
                    resolve: Persistent::save(ctx, resolve),
                    reject: Persistent::save(ctx, reject),
                    out_arrays: args
                        .out_arrays
                        .into_iter()
                        .map(|(index, array)| (index, Persistent::save(ctx, array)))
                        .collect(),
                },
            );
            host.ops
                .borrow_mut()
                .submit(promise_id, id, &args.json, args.bufs);
        }
    }
    Ok(promise)
}

/// A caught exception (or another engine error) as text with its stack.
pub(crate) fn describe_caught(ctx: &Ctx<'_>, err: rquickjs::Error) -> String {
    if err.is_exception() {
        describe_value(ctx, &ctx.catch())
    } else {
        err.to_string()
    }
}

/// A thrown value as text: `name: message` and the stack for errors.
pub(crate) fn describe_value<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> String {
    if let Some(object) = value.as_object() {
        let name: Option<String> = get_quietly(ctx, object, "name");
        let message: Option<String> = get_quietly(ctx, object, "message");
        let stack: Option<String> = get_quietly(ctx, object, "stack");
        if let Some(message) = message {
            let mut text = format!("{}: {message}", name.unwrap_or_else(|| "Error".into()));
            if let Some(stack) = stack.filter(|s| !s.is_empty()) {
                text.push('\n');
                text.push_str(stack.trim_end());
            }
            return text;
        }
    }
    if let Some(s) = value.as_string().and_then(|s| s.to_string().ok()) {
        return s;
    }
    match ctx.json_stringify(value.clone()) {
        Ok(Some(s)) => s.to_string().unwrap_or_else(|_| "<value>".into()),
        Ok(None) => format!("<{}>", value.type_name()),
        Err(err) => {
            clear(ctx, &err);
            format!("<{}>", value.type_name())
        }
    }
}

/// A property read that may run a getter; what it throws is caught and dropped, so
/// no exception stays pending in the context.
fn get_quietly<'js, T: rquickjs::FromJs<'js>>(
    ctx: &Ctx<'js>,
    object: &Object<'js>,
    key: &str,
) -> Option<T> {
    match object.get(key) {
        Ok(value) => Some(value),
        Err(err) => {
            clear(ctx, &err);
            None
        }
    }
}

fn clear(ctx: &Ctx<'_>, err: &rquickjs::Error) {
    if err.is_exception() {
        let _ = ctx.catch();
    }
}
