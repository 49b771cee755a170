//! `notes-server`: a host that serves its own ops through `opkit-server`: a note store
//! that every session shares, a cursor resource, an `async fn` op, a user error type
//! and a buffer op, all in [`notes`]. Run it with
//!
//! ```sh
//! cargo run -p opkit-examples --bin notes-server
//! ```
//!
//! It prints its address and a token, then serves JSON-RPC 2.0 over HTTP POST and
//! WebSocket on `http://127.0.0.1:8765/` until SIGINT or SIGTERM. `--addr
//! 127.0.0.1:0` picks a free port, `--token` (or `OPKIT_TOKEN`) chooses the token,
//! `--stdio` serves one session on stdin and stdout instead. With the printed token
//! in `TOKEN`:
//!
//! ```sh
//! curl -s http://127.0.0.1:8765/ -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"op_note_add_sync","params":["buy milk"]}'
//! ```
//!
//! answers `{"jsonrpc":"2.0","id":1,"result":1}`, and `op_note_list_sync` then lists
//! the notes. `tests/notes_server.rs` runs this binary and calls it over HTTP,
//! WebSocket and stdio.

#![forbid(unsafe_code)]

mod notes;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use opkit_server::Server;

#[derive(Parser)]
#[command(version, about = "Serve a shared note store over JSON-RPC 2.0")]
struct Flags {
    /// The loopback address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8765", value_parser = loopback)]
    addr: SocketAddr,
    /// Serve one session on stdin and stdout, one JSON message a line.
    #[arg(long)]
    stdio: bool,
    /// The token TCP clients must show (`Authorization: Bearer TOKEN` or
    /// `?token=TOKEN`); by default a random one.
    #[arg(long, env = "OPKIT_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Serve TCP clients without a token: every local user can then call the ops.
    /// Wins over `--token` and `OPKIT_TOKEN`.
    #[arg(long)]
    no_token: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match serve(Flags::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("notes-server: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(flags: Flags) -> Result<(), Box<dyn std::error::Error>> {
    let builder = Server::builder()
        .extension(notes::extension(notes::Notes::default()))
        .on_session(|state, info| {
            state.put(notes::Caller::from(info));
        });
    let builder = match (flags.no_token, flags.token) {
        (true, _) => builder.no_token(),
        (false, Some(token)) => builder.token(token),
        (false, None) => builder,
    };
    let server = builder.build()?;

    if flags.stdio {
        // Stdout carries the answers: nothing else is printed there.
        server.serve_stdio().await?;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(flags.addr)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", flags.addr))?;
    let url = opkit_server::describe(listener.local_addr()?);
    println!("notes-server: listening on {url}");
    match server.token() {
        Some(token) => println!("notes-server: token {token}"),
        None => println!("notes-server: no token (--no-token)"),
    }
    std::io::stdout().flush()?;
    server.serve_listener(listener).await?;
    Ok(())
}

/// `--addr`, checked before anything is printed: opkit-server serves on loopback only.
fn loopback(text: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text.parse().map_err(|err| format!("{err}"))?;
    if !addr.ip().is_loopback() {
        return Err("opkit-server serves on loopback addresses only".into());
    }
    Ok(addr)
}
