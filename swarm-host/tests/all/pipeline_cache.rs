//! The pipeline cache: what one swarm writes, the next builds from; a damaged file is ignored
//! and rewritten; a directory that cannot be made is an error naming the setting.

use std::path::{Path, PathBuf};

use swarm_host::{CreateError, Imports, Outcome, Swarm, SwarmConfig, Tier, Value};

use crate::reference::reference;

/// A loop the compiled tier compiles, so both kernels of the module are built.
const SUM: &str = r#"(module
  (func (export "sum") (param $n i32) (result i64) (local $acc i64)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc)
          (i64.mul (i64.extend_i32_u (local.get $n)) (i64.const 0x9e3779b97f4a7c15))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $acc)))"#;

/// An empty directory of this test's own.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "swarm-pipeline-cache-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(dir: &Path) -> SwarmConfig {
    SwarmConfig {
        max_agents: 32,
        value_stack_slots: 64,
        call_frames: 8,
        tier: Tier::Compiled,
        pipeline_cache: Some(dir.to_owned()),
        ..SwarmConfig::default()
    }
}

/// Runs `sum` in 32 agents on a swarm keeping pipelines in `dir`, checks every result against
/// wasmtime, and gives back the swarm.
fn run_sum(dir: &Path) -> Swarm {
    let wasm = wat::parse_str(SUM).unwrap();
    let mut swarm = Swarm::new(config(dir)).unwrap();
    swarm.load_module(&wasm, &Imports::new()).unwrap();
    let args = |i: i32| [Value::I32(i * 37)];
    swarm.spawn_many("sum", (0..32).map(args)).unwrap();
    let report = swarm.run().unwrap();
    for (agent, i) in report.agents.iter().zip(0..) {
        let want = reference(&wasm, "sum", &args(i)).unwrap();
        assert_eq!(agent.outcome, Outcome::Finished(want), "agent {i}");
    }
    let compiled: u64 = report.agents.iter().map(|a| a.compiled).sum();
    let all: u64 = report.agents.iter().map(|a| a.instructions).sum();
    assert!(
        compiled * 2 > all,
        "the compiled kernel ran: {compiled} of {all}"
    );
    swarm
}

#[test]
fn a_second_swarm_builds_from_the_pipelines_the_first_kept() {
    let dir = fresh_dir("reuse");
    let first = run_sum(&dir)
        .pipeline_cache()
        .expect("lavapipe keeps pipeline caches");
    assert_eq!(first.loaded_bytes, 0, "the directory was empty");
    assert_eq!(first.ignored, None);
    assert_eq!(first.save_error, None);
    assert!(first.saved_bytes > 0, "{first:?}");
    assert!(first.file.starts_with(&dir), "{first:?}");
    let on_disk = std::fs::metadata(&first.file).unwrap().len();
    assert!(
        on_disk > first.saved_bytes,
        "the file holds a header and the data"
    );

    let second = run_sum(&dir).pipeline_cache().unwrap();
    assert_eq!(second.file, first.file);
    assert_eq!(second.loaded_bytes, first.saved_bytes, "{second:?}");
    assert_eq!(second.ignored, None);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_cache_file_is_ignored_and_rewritten() {
    let dir = fresh_dir("damaged");
    let file = run_sum(&dir).pipeline_cache().unwrap().file;
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x5a;
    std::fs::write(&file, &bytes).unwrap();

    let damaged = run_sum(&dir).pipeline_cache().unwrap();
    assert_eq!(damaged.loaded_bytes, 0);
    let why = damaged.ignored.clone().expect("the damage is noticed");
    assert!(why.contains("checksum"), "{why}");
    assert!(
        damaged.saved_bytes > 0,
        "the file is written again: {damaged:?}"
    );

    std::fs::write(&file, b"not a cache").unwrap();
    let foreign = run_sum(&dir).pipeline_cache().unwrap();
    assert_eq!(foreign.loaded_bytes, 0);
    assert!(foreign.ignored.is_some());

    let repaired = run_sum(&dir).pipeline_cache().unwrap();
    assert_eq!(repaired.ignored, None);
    assert_eq!(repaired.loaded_bytes, foreign.saved_bytes);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cache_directory_that_cannot_be_made_names_the_setting() {
    let dir = fresh_dir("blocked");
    std::fs::create_dir_all(&dir).unwrap();
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, b"").unwrap();
    let err = Swarm::new(config(&blocker.join("pipelines"))).unwrap_err();
    assert!(matches!(err, CreateError::Gpu(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("pipeline_cache") && message.contains("--pipeline-cache"),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
