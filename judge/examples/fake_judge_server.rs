//! The tests' fake judge server as a program, for `bench/judge_throughput.sh`:
//! `cargo run -p judge --release --example fake_judge_server -- [PORT]` serves on
//! `127.0.0.1:PORT` (default: a free port) and prints its URL; it runs until killed.

#[path = "../tests/support/fake_judge.rs"]
mod fake_judge;

fn main() {
    let port = std::env::args().nth(1).unwrap_or_else(|| "0".into());
    let fake = fake_judge::start_on(&format!("127.0.0.1:{port}"), fake_judge::Config::default());
    println!("{}", fake.base_url);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
        eprintln!("fake judge: {} requests so far", fake.seen.requests());
    }
}
