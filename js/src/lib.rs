//! A JavaScript guest for opkit: QuickJS (through rquickjs) calling the table's entries.
//!
//! Every entry of the table is a function on `opkit.ops`: a sync entry returns its
//! value, an async entry returns a promise that [`JsRuntime::run_module`]'s event loop
//! settles. Arguments are positional, or one object of named arguments; a
//! `#[buffer]` parameter takes a `Uint8Array` at its position (a `&mut [u8]` one is
//! filled in place), a `ByteBuf` result is a `Uint8Array`, a resource is its rid. An
//! op's error is thrown (or rejected) as an `Error` whose `name` is its class
//! (`NotFound`, `PermissionDenied`, `Panic`, …) and whose `code` is the errno name.
//!
//! ```no_run
//! # async fn run() -> Result<(), opkit_js::JsError> {
//! let fs = opkit_fs::extension(opkit_fs::FsPermissions::deny_all().allow_read("."));
//! let mut js = opkit_js::JsRuntime::new([fs])?;
//! js.allow_modules_from(".")?;
//! js.run_module("main.js").await?;
//! # Ok(()) }
//! ```

mod bridge;
mod host;
mod modules;

use std::fmt;
use std::future::poll_fn;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use futures_util::task::AtomicWaker;
use opkit::{Extension, Runtime};
use rquickjs::function::Rest;
use rquickjs::promise::PromiseState;
use rquickjs::{Context, Ctx, Function, Module, Object, Persistent, Value};

pub use host::{ConsoleLevel, ConsoleSink, DeniedHint};

use bridge::{describe_caught, describe_value, error_value, result_value};
use host::Host;
use modules::{ModuleRoots, RootedLoader, RootedResolver};

/// Why a script did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsError {
    /// The extensions cannot make one table, or the engine could not start.
    Setup(String),
    /// The module could not be loaded: outside the roots, missing, or not valid JS.
    Load(String),
    /// An uncaught error or unhandled rejection, with its JS stack.
    Uncaught(String),
    /// The top-level await waits on something that will never settle.
    Stalled,
    /// The host stopped the script ([`StopHandle::stop`]).
    Stopped,
}

impl fmt::Display for JsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setup(msg) => write!(f, "cannot start the JS runtime: {msg}"),
            Self::Load(msg) => write!(f, "cannot load the module: {msg}"),
            Self::Uncaught(msg) => write!(f, "uncaught {msg}"),
            Self::Stalled => f.write_str("the module's top-level await never settles"),
            Self::Stopped => f.write_str("the script was stopped by its host"),
        }
    }
}

impl std::error::Error for JsError {}

/// Stops a running script from another thread: the interrupt handler raises an
/// uncatchable exception at the engine's next check, and the event loop ends with
/// [`JsError::Stopped`]. A script that is waiting on async calls (running no JS) is
/// woken and stops at once; the calls still in flight are left to finish unseen.
#[derive(Debug, Clone, Default)]
pub struct StopHandle(Arc<Stop>);

#[derive(Debug, Default)]
struct Stop {
    stopped: AtomicBool,
    /// The event loop, while it waits for completions.
    waiter: AtomicWaker,
}

impl StopHandle {
    /// Asks the script to stop.
    pub fn stop(&self) {
        self.0.stopped.store(true, Ordering::Release);
        self.0.waiter.wake();
    }

    fn is_stopped(&self) -> bool {
        self.0.stopped.load(Ordering::Acquire)
    }

    /// Ready once [`stop`](Self::stop) has been called; registers `cx` to be woken
    /// by it otherwise.
    fn poll_stopped(&self, cx: &mut std::task::Context<'_>) -> bool {
        if self.is_stopped() {
            return true;
        }
        self.0.waiter.register(cx.waker());
        // A stop between the first check and the registration woke no one.
        self.is_stopped()
    }
}

/// One QuickJS runtime and context over one opkit [`Runtime`].
pub struct JsRuntime {
    host: Rc<Host>,
    roots: ModuleRoots,
    stop: StopHandle,
    // Dropped after `host`'s persistent values are cleared (see `Drop`).
    context: Context,
    engine: rquickjs::Runtime,
}

impl JsRuntime {
    /// A runtime with the ops of `extensions` (and the core ops, e.g. `op_close`).
    pub fn new(extensions: impl IntoIterator<Item = Extension>) -> Result<Self, JsError> {
        let ops = Runtime::new(extensions).map_err(|err| JsError::Setup(err.to_string()))?;
        Self::with_runtime(ops)
    }

    /// A runtime over an opkit runtime the host has set up (a policy, say).
    pub fn with_runtime(ops: Runtime) -> Result<Self, JsError> {
        let setup = |err: rquickjs::Error| JsError::Setup(err.to_string());
        let engine = rquickjs::Runtime::new().map_err(setup)?;
        let context = Context::full(&engine).map_err(setup)?;
        let host = Rc::new(Host::new(ops));
        let stop = StopHandle::default();
        let flag = stop.clone();
        engine.set_interrupt_handler(Some(Box::new(move || flag.is_stopped())));
        let weak = Rc::downgrade(&host);
        engine.set_host_promise_rejection_tracker(Some(Box::new(
            move |ctx: Ctx<'_>, promise: Value<'_>, reason: Value<'_>, handled: bool| {
                let Some(host) = weak.upgrade() else { return };
                // No borrow is held while JS runs: describing the reason may call the
                // script's getters, which may reject another promise and come back here.
                if handled {
                    host.unhandled.borrow_mut().retain(|(p, _)| {
                        p.clone()
                            .restore(&ctx)
                            .map(|p| p != promise)
                            .unwrap_or(true)
                    });
                } else {
                    let text = describe_value(&ctx, &reason);
                    let saved = Persistent::save(&ctx, promise);
                    host.unhandled.borrow_mut().push((saved, text));
                }
            },
        )));
        context
            .with(|ctx| {
                bridge::install(&ctx, &host)?;
                install_console(&ctx, &host)
            })
            .map_err(setup)?;
        Ok(Self {
            host,
            roots: ModuleRoots::default(),
            stop,
            context,
            engine,
        })
    }

    /// Lets modules beneath `root` be loaded (the CLI passes its read roots).
    pub fn allow_modules_from(&mut self, root: impl AsRef<Path>) -> Result<(), JsError> {
        let root = root.as_ref();
        self.roots
            .push(root)
            .map_err(|err| JsError::Setup(format!("module root '{}': {err}", root.display())))?;
        self.engine
            .set_loader(RootedResolver, RootedLoader(self.roots.clone()));
        Ok(())
    }

    /// Caps the engine's heap, in bytes; an allocation past it throws.
    pub fn set_memory_limit(&mut self, bytes: usize) {
        self.host.memory_limited.set(true);
        self.engine.set_memory_limit(bytes);
    }

    /// Caps the engine's stack, in bytes.
    pub fn set_max_stack_size(&self, bytes: usize) {
        self.engine.set_max_stack_size(bytes);
    }

    /// A handle that stops the script, usable from any thread.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Sends `console` lines to `sink` instead of stdout and stderr.
    pub fn on_console(&self, sink: impl Fn(ConsoleLevel, &str) + 'static) {
        *self.host.console.borrow_mut() = Box::new(sink);
    }

    /// Adds `hint(meta)` to the message of every `PermissionDenied` an op throws,
    /// e.g. the flag that would allow the access.
    pub fn on_denied(&self, hint: impl Fn(&opkit::OpMeta) -> Option<String> + 'static) {
        *self.host.denied_hint.borrow_mut() = Some(Box::new(hint));
    }

    /// The opkit runtime the script calls.
    pub fn with_ops<R>(&self, f: impl FnOnce(&mut Runtime) -> R) -> R {
        f(&mut self.host.ops.borrow_mut())
    }

    /// Evaluates a classic script (not a module: no imports, no top-level await) and
    /// runs the job queue dry; returns the completion value as JSON (`None` when it
    /// has none, e.g. `undefined`). Async calls it starts are left in flight.
    pub fn eval_script(&self, source: &str) -> Result<Option<String>, JsError> {
        let value = self.context.with(|ctx| {
            let value: Value = ctx
                .eval(source)
                .map_err(|err| self.uncaught(describe_caught(&ctx, err)))?;
            match ctx.json_stringify(value) {
                Ok(json) => Ok(json.and_then(|s| s.to_string().ok())),
                Err(err) => Err(JsError::Uncaught(describe_caught(&ctx, err))),
            }
        })?;
        self.run_jobs()?;
        if let Some((_, text)) = self.host.unhandled.borrow_mut().drain(..).next() {
            return Err(JsError::Uncaught(text));
        }
        Ok(value)
    }

    fn uncaught(&self, text: String) -> JsError {
        if self.stop.is_stopped() {
            JsError::Stopped
        } else {
            JsError::Uncaught(text)
        }
    }

    /// Runs `path` as an ES module until it and every call it started are done.
    /// The module must lie beneath a root given to [`JsRuntime::allow_modules_from`].
    pub async fn run_module(&mut self, path: impl AsRef<Path>) -> Result<(), JsError> {
        let name = modules::module_name(path.as_ref()).map_err(JsError::Load)?;
        let source = self.roots.read(&name).map_err(JsError::Load)?;
        let module_promise = self.context.with(|ctx| {
            let declared = Module::declare(ctx.clone(), name.as_str(), source)
                .map_err(|err| JsError::Load(describe_caught(&ctx, err)))?;
            let (_, promise) = declared
                .eval()
                .map_err(|err| JsError::Load(describe_caught(&ctx, err)))?;
            Ok::<_, JsError>(Persistent::save(&ctx, promise))
        });
        let module_promise = match module_promise {
            Err(_) if self.stop.is_stopped() => return Err(JsError::Stopped),
            other => other?,
        };
        self.event_loop(Some(module_promise)).await
    }

    /// Settles the calls the script has in flight, running the JS they resume, until
    /// none is left: what drives the async calls a classic script started with
    /// [`JsRuntime::eval_script`]. An unhandled rejection or an error thrown by a
    /// job ends it.
    pub async fn run_event_loop(&mut self) -> Result<(), JsError> {
        self.event_loop(None).await
    }

    /// Runs the job queue and settles completions until no call is in flight; with a
    /// module's promise, also fails when it rejects, and stalls when it is still
    /// pending then.
    async fn event_loop(
        &mut self,
        module: Option<Persistent<rquickjs::Promise<'static>>>,
    ) -> Result<(), JsError> {
        loop {
            self.run_jobs()?;
            if self.stop.is_stopped() {
                return Err(JsError::Stopped);
            }
            let module_state = self.context.with(|ctx| {
                let Some(module) = &module else {
                    return Ok(PromiseState::Resolved);
                };
                let promise = module
                    .clone()
                    .restore(&ctx)
                    .map_err(|err| JsError::Setup(err.to_string()))?;
                match promise.state() {
                    PromiseState::Rejected => {
                        let reason: Value =
                            promise.result::<Value>().and_then(Result::err).map_or_else(
                                || Value::new_undefined(ctx.clone()),
                                |err| {
                                    if err.is_exception() {
                                        ctx.catch()
                                    } else {
                                        Value::new_undefined(ctx.clone())
                                    }
                                },
                            );
                        if reason.is_null() && self.host.memory_limited.get() {
                            // QuickJS throws `null` when it cannot allocate even the error.
                            return Err(JsError::Uncaught(
                                "out of memory (the memory limit was reached)".into(),
                            ));
                        }
                        Err(JsError::Uncaught(describe_value(&ctx, &reason)))
                    }
                    state => Ok(state),
                }
            })?;
            if let Some((_, text)) = self.host.unhandled.borrow_mut().drain(..).next() {
                return Err(JsError::Uncaught(text));
            }
            if self.stop.is_stopped() {
                return Err(JsError::Stopped);
            }
            if self.host.ops.borrow().pending() == 0 {
                return match module_state {
                    PromiseState::Pending => Err(JsError::Stalled),
                    _ => Ok(()),
                };
            }
            let (host, stop) = (&self.host, &self.stop);
            let batch = poll_fn(|cx| {
                if stop.poll_stopped(cx) {
                    return Poll::Ready(None);
                }
                host.ops.borrow_mut().poll_completions(cx).map(Some)
            })
            .await;
            let Some(batch) = batch else {
                return Err(JsError::Stopped);
            };
            self.context.with(|ctx| {
                for done in batch {
                    let Some(call) = host.in_flight.borrow_mut().remove(&done.promise_id) else {
                        continue;
                    };
                    settle(&ctx, host, call, done)
                        .map_err(|err| JsError::Uncaught(describe_caught(&ctx, err)))?;
                }
                Ok::<_, JsError>(())
            })?;
        }
    }

    /// Runs the job queue dry; an error thrown by a job ends the script.
    fn run_jobs(&self) -> Result<(), JsError> {
        loop {
            match self.engine.execute_pending_job() {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(job) => {
                    if self.stop.is_stopped() {
                        return Err(JsError::Stopped);
                    }
                    let text = job.0.with(|ctx| describe_value(&ctx, &ctx.catch()));
                    return Err(JsError::Uncaught(text));
                }
            }
        }
    }
}

fn settle<'js>(
    ctx: &Ctx<'js>,
    host: &Host,
    call: host::InFlight,
    done: opkit::Completion,
) -> rquickjs::Result<()> {
    let arrays = call
        .out_arrays
        .into_iter()
        .map(|(index, array)| Ok((index, array.restore(ctx)?)))
        .collect::<rquickjs::Result<Vec<_>>>()?;
    bridge::copy_back(&arrays, &done.bufs);
    let resolve = call.resolve.restore(ctx)?;
    let reject = call.reject.restore(ctx)?;
    match done
        .result
        .map(|bytes| result_value(ctx, host, call.meta, bytes))
    {
        Ok(Ok(value)) => resolve.call((value,)),
        Ok(Err(err)) => reject.call((Value::from_exception_or(ctx, err),)),
        Err(err) => reject.call((error_value(ctx, &host.explain(call.meta, err))?,)),
    }
}

trait CaughtValue<'js> {
    fn from_exception_or(ctx: &Ctx<'js>, err: rquickjs::Error) -> Value<'js>;
}

impl<'js> CaughtValue<'js> for Value<'js> {
    /// The thrown value of a failed conversion, or its text.
    fn from_exception_or(ctx: &Ctx<'js>, err: rquickjs::Error) -> Value<'js> {
        if err.is_exception() {
            ctx.catch()
        } else {
            rquickjs::String::from_str(ctx.clone(), &err.to_string()).map_or_else(
                |_| Value::new_undefined(ctx.clone()),
                rquickjs::String::into_value,
            )
        }
    }
}

impl Drop for JsRuntime {
    fn drop(&mut self) {
        // Persistent values must go before the engine they live in.
        self.host.in_flight.borrow_mut().clear();
        self.host.unhandled.borrow_mut().clear();
    }
}

fn install_console<'js>(ctx: &Ctx<'js>, host: &Rc<Host>) -> rquickjs::Result<()> {
    let console = Object::new(ctx.clone())?;
    for (name, level) in [
        ("log", ConsoleLevel::Log),
        ("info", ConsoleLevel::Log),
        ("debug", ConsoleLevel::Log),
        ("error", ConsoleLevel::Error),
        ("warn", ConsoleLevel::Error),
    ] {
        let weak = Rc::downgrade(host);
        let function = Function::new(ctx.clone(), move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
            let line = args
                .0
                .iter()
                .map(|value| describe_value(&ctx, value))
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(host) = weak.upgrade() {
                (host.console.borrow())(level, &line);
            }
        })?;
        console.set(name, function)?;
    }
    ctx.globals().set("console", console)
}
