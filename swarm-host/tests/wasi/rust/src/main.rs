//! WASI test program: Rust's standard library on wasm32-wasip1. It prints its arguments and
//! environment, hashes with std's randomly seeded `HashMap` (random_get), reads the clocks,
//! fails to open a file outside the preopened directories, reads a given file in `data`,
//! writes, lists, renames and removes files and directories in `out`, writes to stderr, and
//! exits with a code from its argument.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("{} argument(s): {args:?}", args.len());
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    vars.sort();
    println!("environment: {vars:?}");
    let n: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0);

    let mut words: HashMap<String, u64> = HashMap::new();
    for i in 0..50 + n * 7 {
        *words.entry(format!("w{}", i % 13)).or_default() += i;
    }
    let mut counts: Vec<_> = words.into_iter().collect();
    counts.sort();
    println!("counts: {counts:?}");

    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let start = Instant::now();
    println!("realtime {}.{:09}", now.as_secs(), now.subsec_nanos());
    println!("elapsed {:?}", start.elapsed());

    match std::fs::read_to_string("input.txt") {
        Ok(text) => println!("read {} bytes", text.len()),
        Err(error) => println!("open failed: {error}"),
    }
    files(n);
    let x = (1..=n + 5).map(|k| (k as f64).sqrt()).sum::<f64>();
    println!("sum of roots {x:.9}");
    writeln!(std::io::stderr(), "agent {n}: done").unwrap();
    std::io::stdout().flush().unwrap();
    if n % 2 == 1 {
        std::process::exit((n % 100) as i32);
    }
}

/// Files in the preopened `data` (given) and `out` (empty) directories.
fn files(n: u64) {
    let given = std::fs::read_to_string("data/input.txt").unwrap();
    let words = given.split_whitespace().count();
    println!("data/input.txt: {} bytes, {words} words", given.len());
    let dir = format!("out/agent-{n}/nested");
    std::fs::create_dir_all(&dir).unwrap();
    let report = format!("agent {n} counted {words} words\n");
    std::fs::write(format!("{dir}/report.txt"), report.repeat(n as usize + 1)).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(format!("{dir}/report.txt"))
        .unwrap();
    writeln!(file, "appended by agent {n}").unwrap();
    drop(file);
    std::fs::rename(format!("{dir}/report.txt"), format!("out/agent-{n}/report.txt")).unwrap();
    std::fs::remove_dir(&dir).unwrap();
    let mut listing: Vec<String> = std::fs::read_dir(format!("out/agent-{n}"))
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            format!("{:?} {} bytes", entry.file_name(), meta.len())
        })
        .collect();
    listing.sort();
    println!("out/agent-{n}: {listing:?}");
    match std::fs::remove_dir(format!("out/agent-{n}")) {
        Ok(()) => println!("removed a full directory"),
        Err(error) => println!("remove_dir failed: {}", error.kind()),
    }
    match std::fs::write("data/input.txt/x", "no") {
        Ok(()) => println!("wrote through a file"),
        Err(error) => println!("write through a file failed: {error}"),
    }
}
