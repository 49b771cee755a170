//! Serving a [`Server`] on an ephemeral loopback port and talking to it as a client
//! would: over HTTP with the token in an `Authorization` header, and over WebSocket.

#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use opkit_server::Server;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A generous bound for anything a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A server serving on an ephemeral loopback port, until it is stopped.
pub struct Running {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    pub addr: std::net::SocketAddr,
    pub token: Option<String>,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn start(server: Server) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = opkit_server::describe(addr);
        let token = server.token().map(str::to_owned);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            server.serve_listener_until(listener, shutdown).await
        });
        Self {
            url,
            addr,
            token,
            stop,
            serving,
        }
    }

    /// POSTs a JSON-RPC message with the token and returns the parsed answer.
    pub async fn post(&self, body: Value) -> Value {
        let (status, text) = self.post_raw(body.to_string()).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// POSTs a body with the token; the status and the text of the answer.
    pub async fn post_raw(&self, body: String) -> (u16, String) {
        let mut request = reqwest::Client::new()
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// A WebSocket session, its handshake carrying the token in a header.
    pub async fn ws(&self) -> Ws {
        let url = self.url.replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().unwrap();
        if let Some(token) = &self.token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        let (ws, _) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request))
            .await
            .expect("a handshake within the deadline")
            .expect("the handshake succeeds");
        ws
    }

    /// Stops the server and waits, with a generous bound, until it has returned.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        // Shorter than the server's 30 s grace for busy sessions: a session or
        // connection left open by the server itself fails here, not 30 s late.
        tokio::time::timeout(Duration::from_secs(25), self.serving)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One request over a WebSocket, and its answer.
pub async fn ws_call(ws: &mut Ws, id: u64, method: &str, params: Value) -> Value {
    let request =
        serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    ws.send(Message::Text(request.to_string().into()))
        .await
        .unwrap();
    ws_next(ws).await
}

/// The next text message, parsed.
pub async fn ws_next(ws: &mut Ws) -> Value {
    loop {
        let next = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a reply within the deadline")
            .expect("the socket stays open")
            .expect("no websocket error");
        if let Message::Text(text) = next {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}
