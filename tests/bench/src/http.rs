//! A minimal HTTP/1.1 client for the fan-out benchmark's integration-API mode: one keep-alive
//! connection, JSON bodies, bearer token. Only what the bench needs; responses are bounded.

use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Largest response body the bench reads.
const MAX_BODY: usize = 1 << 20;

/// One keep-alive connection to the integration API.
pub struct Api {
    addr: SocketAddr,
    token: String,
    conn: Option<BufReader<TcpStream>>,
}

impl Api {
    /// A client for `addr` with `token`; connects on first use.
    pub fn new(addr: SocketAddr, token: String) -> Self {
        Api {
            addr,
            token,
            conn: None,
        }
    }

    /// `PUT path` with a JSON body; returns the status code. Reconnects once if the server closed
    /// the idle connection.
    pub async fn put(&mut self, path: &str, json: &str) -> anyhow::Result<u16> {
        match self.try_put(path, json).await {
            Ok(code) => Ok(code),
            Err(_) => {
                self.conn = None;
                self.try_put(path, json).await
            }
        }
    }

    async fn try_put(&mut self, path: &str, json: &str) -> anyhow::Result<u16> {
        if self.conn.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.conn = Some(BufReader::new(s));
        }
        let Some(conn) = self.conn.as_mut() else {
            anyhow::bail!("no connection");
        };
        let request = format!(
            "PUT {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
            self.addr,
            self.token,
            json.len()
        );
        conn.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        conn.read_line(&mut line).await?;
        let code: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("bad status line {line:?}"))?;
        let mut length = 0usize;
        for _ in 0..100 {
            line.clear();
            if conn.read_line(&mut line).await? == 0 {
                anyhow::bail!("connection closed in headers");
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        if length > MAX_BODY {
            anyhow::bail!("response body of {length} bytes");
        }
        let mut body = vec![0; length];
        conn.read_exact(&mut body).await?;
        Ok(code)
    }
}
