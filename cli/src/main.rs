//! `opkit`: serve ops over JSON-RPC 2.0, call one op, list the entries, print the op
//! reference.

mod config;
mod docs;
mod host;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use clap::{Parser, Subcommand, ValueEnum};
use opkit::{OpMode, Runtime};

use crate::config::{ConfigFile, Grants, PermissionFlags};
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
        /// A TOML config file (permissions, address, limits).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The default working folder, used when nothing else is allowed.
        #[arg(long, default_value = "opkit-data")]
        dir: PathBuf,
        #[command(flatten)]
        perms: PermissionFlags,
        /// The largest message answered, in bytes.
        #[arg(long)]
        max_message_bytes: Option<usize>,
        /// Requests of one session in flight at once; more wait in a queue.
        #[arg(long)]
        max_concurrent: Option<usize>,
        /// Seconds a session may sit idle before it is closed.
        #[arg(long)]
        idle_timeout: Option<u64>,
        /// Resources (rids) one session may hold open at once.
        #[arg(long)]
        max_rids: Option<usize>,
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
    /// List the entries: name, mode, extension, permission.
    Ops,
    /// Print the op reference.
    Docs {
        #[arg(long, value_enum, default_value = "md")]
        format: DocsFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum DocsFormat {
    Md,
    Json,
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
            config,
            dir,
            perms,
            max_message_bytes,
            max_concurrent,
            idle_timeout,
            max_rids,
        } => {
            let file = match &config {
                Some(path) => ConfigFile::load(path)?,
                None => ConfigFile::default(),
            };
            let mut limits = file.limits(Limits::default());
            if let Some(max) = max_message_bytes {
                limits.max_message_bytes = max;
            }
            if let Some(max) = max_concurrent {
                limits.max_concurrent = max;
            }
            if let Some(secs) = idle_timeout {
                limits.idle_timeout = std::time::Duration::from_secs(secs);
            }
            if let Some(max) = max_rids {
                limits.max_rids = max;
            }
            let limits = limits.clamped();
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
            let table = host::build_table(&grants)?;
            let addr = file
                .addr
                .clone()
                .filter(|_| addr == "127.0.0.1:8765")
                .unwrap_or(addr);
            serve(table, limits, stdio, &addr)
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
        Command::Ops => {
            let table = host::build_table(&Grants::default())?;
            print!("{}", docs::render_entries(&table));
            Ok(ExitCode::SUCCESS)
        }
        Command::Docs { format } => {
            let table = host::build_table(&Grants::default())?;
            match format {
                DocsFormat::Md => print!("{}", docs::render_markdown(&table)),
                DocsFormat::Json => print!("{}", docs::render_json(&table)),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The default working folder, made if missing and resolved.
fn working_folder(dir: &std::path::Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    std::fs::canonicalize(dir).map_err(|err| format!("cannot resolve {}: {err}", dir.display()))
}

fn serve(
    table: std::sync::Arc<opkit::DispatchTable>,
    limits: Limits,
    stdio: bool,
    addr: &str,
) -> Result<ExitCode, String> {
    if stdio {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| err.to_string())?;
        rt.block_on(opkit_server::serve_stdio(table, limits))
            .map_err(|err| format!("stdio: {err}"))?;
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| err.to_string())?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|err| format!("cannot listen on {addr}: {err}"))?;
        let local = listener.local_addr().map_err(|err| err.to_string())?;
        let url = opkit_server::describe(local);
        println!("opkit: listening on {url} (JSON-RPC 2.0 over HTTP POST and WebSocket)");
        println!("opkit: try  {}", example_curl(&url));
        opkit_server::serve_http(listener, table, limits)
            .await
            .map_err(|err| format!("serve: {err}"))
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The example printed at start: a batch that writes a file in the working folder and
/// reads it back.
fn example_curl(url: &str) -> String {
    format!(
        "curl -s {url} -H 'content-type: application/json' -d '[{}, {}]'",
        r#"{"jsonrpc":"2.0","id":1,"method":"op_write_text_file_sync","params":["hello.txt","hello from opkit"]}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"op_read_text_file_async","params":["hello.txt"]}"#,
    )
}

fn call(op: &str, args: &str, buffers: &[String], grants: &Grants) -> Result<ExitCode, String> {
    let table = host::build_table(grants)?;
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
