//! A standard `wasi:cli` command for confine's tests, written only against the published
//! `wasi:config` WIT (`wit/deps/wasi-config`), not against confine's own WIT: it shows that
//! such a program reads configuration from confine unchanged, and that it can reach
//! nothing else.
//!
//! The first argument picks what to do; output goes to stdout, one line per answer.
//! - `get KEY...`: for each KEY, the value, `<none>`, or `error: <Debug of the error>`.
//! - `all`: every `key=value` of `get-all`, sorted by key.
//! - `escape [ENV] [ADDR]`: tries to open `/etc/passwd` and `.` (any preopened directory),
//!   to read the environment variable ENV (and counts the environment), to look up
//!   `localhost` and to connect to ADDR (default `127.0.0.1:9`) over TCP and to send a
//!   UDP datagram there. One line each: `<what>: refused (<why>)` or `<what>: REACHED`.
//! - `exit N`: exits with status N through `std::process::exit`.
//! - `fail`: returns an error from `main` (status 1).
//! - `exit-with-code N`: exits with status N through `wasi:cli/exit.exit-with-code`.
//! - `args`: prints every argument it was given, one a line, its program name first.
//! - `spin`: loops forever; `hog`: allocates memory without bound (the host must stop both).
//!
//! A configuration error (`get`, `all`) makes the command exit with status 3 after it
//! printed what it could.

#[allow(unsafe_code, unreachable_pub, missing_docs)]
mod bindings {
    wit_bindgen::generate!({ path: "../../../wit/deps/wasi-config", world: "imports" });
}

/// The standard `wasi:cli/exit` of WASI 0.2.12 (its two functions as declared in the
/// `wit/deps/cli.wit` that wasmtime-wasi 48.0.8 ships), for `exit-with-code`: Rust's
/// `std::process::exit` reports every failure as 1, through `exit(err)`.
#[allow(unsafe_code, unreachable_pub, missing_docs, dead_code)]
mod cli_exit {
    wit_bindgen::generate!({
        inline: "
            package wasi:cli@0.2.12;
            interface exit {
                exit: func(status: result);
                exit-with-code: func(status-code: u8);
            }
            world exit-code { import exit; }
        ",
        world: "exit-code",
    });
}

use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use bindings::wasi::config::store;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let words: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match words.as_slice() {
        ["get", keys @ ..] => {
            let mut failed = false;
            for key in keys {
                match store::get(key) {
                    Ok(Some(value)) => println!("{value}"),
                    Ok(None) => println!("<none>"),
                    Err(e) => {
                        println!("error: {e:?}");
                        failed = true;
                    }
                }
            }
            if failed { ExitCode::from(3) } else { ExitCode::SUCCESS }
        }
        ["all"] => match store::get_all() {
            Ok(mut pairs) => {
                pairs.sort();
                for (key, value) in pairs {
                    println!("{key}={value}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("error: {e:?}");
                ExitCode::from(3)
            }
        },
        ["escape", rest @ ..] => {
            escape(rest.first().copied().unwrap_or("HOME"), rest.get(1).copied().unwrap_or("127.0.0.1:9"));
            ExitCode::SUCCESS
        }
        ["exit", n] => std::process::exit(n.parse().unwrap_or(101)),
        ["exit-with-code", n] => {
            cli_exit::wasi::cli::exit::exit_with_code(n.parse().unwrap_or(101));
            ExitCode::from(102) // not reached: the host ends the instance
        }
        ["fail"] => ExitCode::FAILURE,
        ["args", ..] => {
            for arg in &args {
                println!("{arg}");
            }
            ExitCode::SUCCESS
        }
        ["spin"] => loop {
            std::hint::spin_loop();
        },
        ["hog"] => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        _ => {
            eprintln!(
                "usage: get KEY... | all | escape [ENV] [ADDR] | exit N | exit-with-code N | fail | args | spin | hog"
            );
            ExitCode::from(2)
        }
    }
}

fn escape(env: &str, addr: &str) {
    report("file /etc/passwd", std::fs::read("/etc/passwd").map(drop));
    report("directory .", std::fs::read_dir(".").map(drop));
    report(&format!("env {env}"), std::env::var(env).map(drop).map_err(|e| e.to_string()));
    let count = std::env::vars_os().count();
    report("environment", if count == 0 { Err("empty".to_owned()) } else { Ok(()) });
    report("lookup localhost", ("localhost", 80).to_socket_addrs().map(drop));
    report(&format!("tcp {addr}"), TcpStream::connect_timeout(&parse(addr), Duration::from_secs(2)).map(drop));
    let udp = UdpSocket::bind("0.0.0.0:0").and_then(|socket| socket.send_to(b"escape", parse(addr)));
    report(&format!("udp {addr}"), udp.map(drop));
}

fn parse(addr: &str) -> std::net::SocketAddr {
    addr.parse().unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 9)))
}

fn report<E: std::fmt::Display>(what: &str, result: Result<(), E>) {
    match result {
        Ok(()) => println!("{what}: REACHED"),
        Err(e) => println!("{what}: refused ({e})"),
    }
}
