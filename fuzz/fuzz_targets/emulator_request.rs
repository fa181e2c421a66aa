//! The emulator's request handling: raw or half-formed HTTP requests (any path, headers,
//! `Dropbox-API-Arg`, body) over a real loopback connection. A panic in any handler aborts
//! the process (libFuzzer's panic hook), which is a finding; so is a server that stops
//! answering.
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

struct Server {
    addr: std::net::SocketAddr,
    token: String,
    _runtime: tokio::runtime::Runtime,
    _handle: dbx_emulator::EmulatorHandle,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let handle = runtime
            .block_on(dbx_emulator::Emulator::start(dbx_emulator::EmulatorConfig::default()))
            .expect("emulator starts");
        Server {
            addr: handle.addr(),
            token: handle.access_token().to_string(),
            _runtime: runtime,
            _handle: handle,
        }
    })
}

const ROUTES: &[&str] = &[
    "/2/files/upload",
    "/2/files/upload_session/start",
    "/2/files/upload_session/append_v2",
    "/2/files/upload_session/append_batch",
    "/2/files/upload_session/finish",
    "/2/files/upload_session/finish_batch_v2",
    "/2/files/upload_session/finish_batch/check",
    "/2/files/get_metadata",
    "/2/files/download",
    "/2/files/list_folder",
    "/2/files/list_folder/continue",
    "/2/files/delete_v2",
    "/2/files/create_folder_v2",
    "/2/files/get_temporary_upload_link",
    "/1/chunked_upload",
    "/oauth2/token",
];

fn request(data: &[u8], token: &str) -> Vec<u8> {
    let Some((&mode, rest)) = data.split_first() else {
        return Vec::new();
    };
    if mode % 3 == 0 {
        // The raw bytes, as they come.
        return rest.to_vec();
    }
    // A well-formed request with a fuzzed argument header and body.
    let route = ROUTES[usize::from(mode) % ROUTES.len()];
    let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
    let (arg, body) = rest.split_at(split);
    let arg: String = String::from_utf8_lossy(arg)
        .chars()
        .filter(|c| (' '..='~').contains(c))
        .collect();
    let content_type = if mode % 3 == 1 {
        "application/octet-stream"
    } else {
        "application/json"
    };
    let mut out = format!(
        "POST {route} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nDropbox-API-Arg: {arg}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fuzz_target!(|data: &[u8]| {
    let s = server();
    let req = request(data, &s.token);
    let Ok(mut conn) = TcpStream::connect(s.addr) else {
        panic!("the emulator stopped accepting connections");
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = conn.write_all(&req);
    let _ = conn.shutdown(Shutdown::Write);
    let mut response = Vec::new();
    let _ = conn.read_to_end(&mut response);
    // Whatever happened, the server must still answer a well-formed request.
    let mut probe = TcpStream::connect(s.addr).expect("the emulator still accepts connections");
    let _ = probe.set_read_timeout(Some(Duration::from_secs(5)));
    let ping = format!(
        "POST /2/files/list_folder HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{{\"path\":\"\"}}",
        s.token
    );
    probe.write_all(ping.as_bytes()).expect("write probe");
    let mut answer = Vec::new();
    let _ = probe.read_to_end(&mut answer);
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "probe failed: {:?}\nafter request {:?}\nwhich got {:?}",
        String::from_utf8_lossy(&answer),
        String::from_utf8_lossy(&req),
        String::from_utf8_lossy(&response)
    );
});
