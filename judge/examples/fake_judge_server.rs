//! The tests' fake judge server as a program, for `bench/judge_throughput.sh`:
//! `cargo run -p judge --release --example fake_judge_server -- [PORT]` serves on
//! `127.0.0.1:PORT` (default: a free port) and prints its URL; it runs until killed.

#[path = "../tests/support/rubric_responder.rs"]
mod rubric_responder;

fn main() {
    let port = match std::env::args().nth(1).map(|p| p.parse::<u16>()) {
        None => 0,
        Some(Ok(port)) => port,
        Some(Err(e)) => {
            eprintln!("fake judge: PORT: {e}");
            std::process::exit(2);
        }
    };
    let fake = rubric_responder::fake_judge_on(port, rubric_responder::Config::default());
    println!("{}", fake.base_url);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
        eprintln!("fake judge: {} requests so far", fake.seen.requests());
    }
}
