//! The loader on damaged input: real modules with bytes flipped, inserted, deleted or cut off
//! must be refused with an error or lowered and laid out, never panic or hang.

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use swarm_core::SwarmConfig;
use swarm_shader::{CodeImage, lower};

/// Real modules: a zlib round trip (C), the Rust benchmark guests, and the lowering cases.
fn seeds() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seeds: Vec<Vec<u8>> = [
        "swarm-host/tests/data/zlib-run4.wasm",
        "swarm-bench/guests/swarm_guests.wasm",
    ]
    .iter()
    .map(|path| std::fs::read(root.join(path)).expect("a seed module"))
    .collect();
    let mut wats: Vec<_> = std::fs::read_dir(root.join("swarm-shader/tests/lowering"))
        .expect("the lowering cases")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wat"))
        .collect();
    wats.sort();
    seeds.extend(
        wats.iter()
            .map(|path| wat::parse_file(path).expect("valid text")),
    );
    seeds
}

/// One damage to a module's bytes.
#[derive(Clone, Debug)]
enum Damage {
    /// XOR the byte at this fraction of the length with a nonzero mask.
    Flip(f64, u8),
    /// Insert a byte.
    Insert(f64, u8),
    /// Delete a run of up to 16 bytes.
    Delete(f64, u8),
    /// Keep only this fraction of the bytes.
    Truncate(f64),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        4 => (0.0..1.0, 1..=255_u8).prop_map(|(at, mask)| Damage::Flip(at, mask)),
        2 => (0.0..1.0, any::<u8>()).prop_map(|(at, byte)| Damage::Insert(at, byte)),
        2 => (0.0..1.0, 1..=16_u8).prop_map(|(at, n)| Damage::Delete(at, n)),
        1 => (0.0..1.0).prop_map(Damage::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, damage: &Damage) {
    let at = |fraction: f64, len: usize| ((fraction * len as f64) as usize).min(len);
    match *damage {
        Damage::Flip(fraction, mask) => {
            if !bytes.is_empty() {
                let i = at(fraction, bytes.len() - 1);
                bytes[i] ^= mask;
            }
        }
        Damage::Insert(fraction, byte) => {
            let i = at(fraction, bytes.len());
            bytes.insert(i, byte);
        }
        Damage::Delete(fraction, n) => {
            let i = at(fraction, bytes.len());
            let end = (i + usize::from(n)).min(bytes.len());
            bytes.drain(i..end);
        }
        Damage::Truncate(fraction) => {
            let keep = at(fraction, bytes.len());
            bytes.truncate(keep);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn damaged_modules_are_refused_or_loaded(
        seed in any::<prop::sample::Index>(),
        damages in prop::collection::vec(damage(), 1..6),
    ) {
        let mut bytes = SEEDS.with(|seeds| seed.get(seeds).clone());
        for d in &damages {
            apply(&mut bytes, d);
        }
        let started = Instant::now();
        // Either an error, or a program the code image lays out (or refuses to fit).
        if let Ok(program) = lower(&bytes) {
            let _ = CodeImage::build(&program, &SwarmConfig::default());
        }
        prop_assert!(started.elapsed() < Duration::from_secs(5), "{damages:?} took {:?}", started.elapsed());
    }
}

thread_local! {
    static SEEDS: Vec<Vec<u8>> = seeds();
}
