//! `opkit`: serve ops over JSON-RPC 2.0, run a JavaScript module, call one op, list the
//! entries, print the op reference.

#![forbid(unsafe_code)]

mod config;
mod docs;
mod host;
mod typescript;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use clap::{Parser, Subcommand, ValueEnum};
use opkit::{OpMode, Runtime};

use crate::config::{ConfigFile, Grants, LimitsFile, PermissionFlags};
use opkit_server::Limits;

#[derive(Parser)]
#[command(name = "opkit", version, about = "Serve and call opkit ops")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the ops over JSON-RPC 2.0: HTTP POST and WebSocket on one port, or stdio.
    ///
    /// With no permission flags and no config file, serves the working folder
    /// `./opkit-data` (created if missing): read and write inside it only, no network.
    Serve {
        /// The loopback address to listen on; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:8765")]
        addr: String,
        /// Serve one session on stdin/stdout, one JSON message per line.
        #[arg(long)]
        stdio: bool,
        /// Serve the ops as Model Context Protocol tools on stdin/stdout, for an
        /// agent to launch.
        #[arg(long, conflicts_with = "stdio")]
        mcp: bool,
        /// A TOML config file (permissions, address, limits).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The default working folder, used when nothing else is allowed.
        #[arg(long, default_value = "opkit-data")]
        dir: PathBuf,
        #[command(flatten)]
        perms: PermissionFlags,
        #[command(flatten)]
        limits: LimitsFile,
        /// The token TCP clients must show (`Authorization: Bearer TOKEN`, or
        /// `?token=TOKEN`); by default a random one, printed at start.
        #[arg(long, env = "OPKIT_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Serve TCP clients without a token: every local user can then call the ops.
        /// Wins over `--token` and `OPKIT_TOKEN`.
        #[arg(long)]
        no_token: bool,
    },
    /// Call one op and print its JSON result.
    ///
    /// With no permission flags, works in the folder `serve` would serve,
    /// `./opkit-data` (created if missing): read and write inside it only, no network.
    Call {
        /// The entry, e.g. `op_stat_sync`.
        op: String,
        /// The arguments: a JSON array or object.
        #[arg(default_value = "[]")]
        args: String,
        /// A byte buffer for the op, base64-encoded (repeatable).
        #[arg(long = "buffer", value_name = "BASE64")]
        buffers: Vec<String>,
        /// The default working folder, used when nothing else is allowed.
        #[arg(long, default_value = "opkit-data")]
        dir: PathBuf,
        #[command(flatten)]
        perms: PermissionFlags,
    },
    /// Run a JavaScript module (QuickJS) whose `opkit.ops` are the ops.
    ///
    /// Nothing is allowed without permission flags: the script is loaded, but its
    /// imports must lie under an `--allow-read` folder, and so must every file it
    /// touches. Exits with status 1 on an uncaught error or unhandled rejection.
    Run {
        /// The module to run, e.g. `examples/hello.js`.
        file: PathBuf,
        #[command(flatten)]
        perms: PermissionFlags,
    },
    /// List the entries: name, mode, extension, permission.
    Ops,
    /// Print the op reference: Markdown, JSON, the OpenRPC document that
    /// `rpc.discover` answers, or TypeScript declarations with a typed client.
    Docs {
        #[arg(long, value_enum, default_value = "md")]
        format: DocsFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum DocsFormat {
    Md,
    Json,
    Openrpc,
    Ts,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour for a person at a terminal, plain text for a file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("opkit: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Serve {
            addr,
            stdio,
            mcp,
            config,
            dir,
            perms,
            limits,
            token,
            no_token,
        } => {
            let file = match &config {
                Some(path) => ConfigFile::load(path)?,
                None => ConfigFile::default(),
            };
            let limits = file.limits(&limits);
            let token = match (no_token, token.or_else(|| file.token.clone())) {
                (true, _) => TokenFlag::Off,
                (false, Some(token)) => TokenFlag::Given(token),
                (false, None) => TokenFlag::Generate,
            };
            let grants = if perms.is_empty() && config.is_none() {
                let folder = working_folder(&dir)?;
                eprintln!(
                    "opkit: serving the working folder {} (read and write; no network)",
                    folder.display()
                );
                Grants::working_folder(folder)
            } else {
                Grants::from_parts(&perms, &file)
            };
            // Files are read whole for a reply: none larger than a reply may hold.
            let table = host::build_table(&grants, Some(limits.max_reply_bytes / 4 * 3))?;
            let addr = file
                .addr
                .clone()
                .filter(|_| addr == "127.0.0.1:8765")
                .unwrap_or(addr);
            let transport = match (stdio, mcp) {
                (_, true) => Stdio::Mcp,
                (true, false) => Stdio::JsonRpc,
                (false, false) => Stdio::No,
            };
            serve(table, limits, token, transport, &addr)
        }
        Command::Call {
            op,
            args,
            buffers,
            dir,
            perms,
        } => {
            let grants = if perms.is_empty() {
                Grants::working_folder(working_folder(&dir)?)
            } else {
                Grants::from_parts(&perms, &ConfigFile::default())
            };
            call(&op, &args, &buffers, &grants)
        }
        Command::Run { file, perms } => {
            let grants = Grants::from_parts(&perms, &ConfigFile::default());
            run_script(&file, &grants)
        }
        Command::Ops => {
            let table = host::build_table(&Grants::default(), None)?;
            print!("{}", docs::render_entries(&table));
            Ok(ExitCode::SUCCESS)
        }
        Command::Docs { format } => {
            let table = host::build_table(&Grants::default(), None)?;
            match format {
                DocsFormat::Md => print!("{}", docs::render_markdown(&table)),
                DocsFormat::Json => print!("{}", docs::render_json(&table)),
                DocsFormat::Openrpc => print!("{}", docs::render_openrpc(&table)),
                DocsFormat::Ts => print!("{}", typescript::render_typescript(&table)),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `opkit run`: the module on a current-thread runtime, exit status 1 when it fails.
fn run_script(file: &std::path::Path, grants: &Grants) -> Result<ExitCode, String> {
    let table = host::build_table(grants, None)?;
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the event loop: {err}"))?;
    let result = tokio_rt.block_on(async {
        let mut js = opkit_js::JsRuntime::with_runtime(Runtime::with_table(table))?;
        // The main module itself may always load; its imports only from the read roots.
        js.allow_modules_from(file)?;
        for root in &grants.read {
            js.allow_modules_from(root)?;
        }
        js.on_denied(host::flag_for);
        js.run_module(file).await
    });
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The default working folder, made if missing and resolved.
fn working_folder(dir: &std::path::Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    std::fs::canonicalize(dir).map_err(|err| format!("cannot resolve {}: {err}", dir.display()))
}

/// Whether `opkit serve` serves one session on stdin and stdout, and what.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stdio {
    No,
    JsonRpc,
    Mcp,
}

/// Where the token of `opkit serve` comes from.
enum TokenFlag {
    Generate,
    Given(String),
    Off,
}

fn serve(
    table: std::sync::Arc<opkit::DispatchTable>,
    limits: Limits,
    token: TokenFlag,
    stdio: Stdio,
    addr: &str,
) -> Result<ExitCode, String> {
    let builder = opkit_server::Server::builder().table(table).limits(limits);
    let builder = match token {
        TokenFlag::Generate => builder,
        TokenFlag::Given(token) => builder.token(token),
        TokenFlag::Off => builder.no_token(),
    };
    let server = builder.build().map_err(|err| format!("--token: {err}"))?;
    if stdio != Stdio::No {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| err.to_string())?;
        let served = match stdio {
            Stdio::Mcp => rt.block_on(server.serve_mcp_stdio()),
            _ => rt.block_on(server.serve_stdio()),
        };
        served.map_err(|err| format!("stdio: {err}"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let addr: SocketAddr = addr
        .parse()
        .map_err(|err| format!("--addr {addr}: {err}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "--addr {addr}: opkit serves on loopback addresses only"
        ));
    }
    raise_fd_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| err.to_string())?;
    let served = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|err| format!("cannot listen on {addr}: {err}"))?;
        let local = listener.local_addr().map_err(|err| err.to_string())?;
        let url = opkit_server::describe(local);
        println!("opkit: listening on {url} (JSON-RPC 2.0 over HTTP POST and WebSocket)");
        println!("opkit: try  {}", example_curl(&url, server.token()));
        match server.token() {
            Some(token) => println!(
                "opkit: clients send `Authorization: Bearer {token}` (a WebSocket from a browser: {url}?token={token})"
            ),
            None => println!("opkit: no token (--no-token): every local user can call the ops"),
        }
        server
            .serve_listener(listener)
            .await
            .map_err(|err| format!("serve: {err}"))
    });
    // A blocking body that never returns (a guest's read of a pipe nobody writes)
    // must not keep the process from exiting once the sessions are closed.
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    served?;
    Ok(ExitCode::SUCCESS)
}

/// Lifts the soft descriptor limit to the hard one, as servers do: the sessions'
/// rids are kept a headroom below whatever the limit is.
fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if let Err(err) = setrlimit(Resource::Nofile, limit) {
            tracing::debug!("cannot raise RLIMIT_NOFILE: {err}");
        }
    }
}

/// The example printed at start: a batch that writes a file in the working folder and
/// reads it back.
fn example_curl(url: &str, token: Option<&str>) -> String {
    let auth = token.map_or(String::new(), |token| {
        format!(" -H 'authorization: Bearer {token}'")
    });
    format!(
        "curl -s {url}{auth} -H 'content-type: application/json' -d '[{}, {}]'",
        r#"{"jsonrpc":"2.0","id":1,"method":"op_write_text_file_sync","params":["hello.txt","hello from opkit"]}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"op_read_text_file_async","params":["hello.txt"]}"#,
    )
}

fn call(op: &str, args: &str, buffers: &[String], grants: &Grants) -> Result<ExitCode, String> {
    let table = host::build_table(grants, None)?;
    let rt = Runtime::with_table(table);
    let Some(id) = rt.op_id(op) else {
        eprintln!("NotFound: unknown op '{op}'; `opkit ops` lists the entries");
        return Ok(ExitCode::FAILURE);
    };
    let mut bufs = Vec::new();
    for (index, text) in buffers.iter().enumerate() {
        let buf = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|err| format!("--buffer {index}: not base64: {err}"))?;
        bufs.push(buf);
    }
    let Some(entry) = rt.table().get(id).copied() else {
        return Err(format!("op '{op}' has no entry"));
    };
    let mode_returns_bytes = entry.decl.meta.returns_bytes;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| err.to_string())?;
    let result = if entry.decl.mode == OpMode::Sync {
        // Inside the runtime: some sync entries (binding a socket) need one.
        let _entered = tokio.enter();
        rt.call_sync(id, args.as_bytes(), &mut bufs)
    } else {
        // Inside the runtime: the async entry spawns its work when it is called.
        let output = tokio.block_on(async {
            rt.call_async(id, args.as_bytes(), std::mem::take(&mut bufs))
                .await
        });
        bufs = output.bufs;
        output.result
    };
    match result {
        Ok(value) if mode_returns_bytes => {
            // Raw bytes print as a JSON string of base64, as over JSON-RPC.
            println!(
                "\"{}\"",
                base64::engine::general_purpose::STANDARD.encode(&value)
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(value) => {
            println!("{}", String::from_utf8_lossy(&value));
            for buf in &bufs {
                eprintln!(
                    "buffer: {}",
                    base64::engine::general_purpose::STANDARD.encode(buf)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("{err}");
            Ok(ExitCode::FAILURE)
        }
    }
}
