//! Snapshot tests of the lowering: every `lowering/NAME.wat` is lowered and disassembled, and
//! the listing must equal `lowering/NAME.listing`. `SWARM_BLESS=1 cargo test -p swarm-shader
//! --test lowering` rewrites the listings; review the diff before committing it.

use std::path::Path;

use swarm_shader::disasm::disassemble;

#[test]
fn listings_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lowering");
    let bless = std::env::var_os("SWARM_BLESS").is_some();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/lowering exists")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wat"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "the snapshot cases are missing");
    let mut mismatched = Vec::new();
    for wat in &cases {
        let wasm = wat::parse_file(wat).unwrap_or_else(|e| panic!("{}: {e}", wat.display()));
        let program =
            swarm_shader::lower(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wat.display()));
        let listing = format!(
            ";; instruction groups: {}\n{}",
            program.op_groups.name(),
            disassemble(&program)
        );
        let expected_path = wat.with_extension("listing");
        if bless {
            std::fs::write(&expected_path, &listing).expect("writing a listing");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != listing {
            eprintln!(
                "--- {} (expected)\n{expected}\n+++ lowered\n{listing}",
                expected_path.display()
            );
            mismatched.push(wat.file_name().expect("a file name").to_owned());
        }
    }
    assert!(
        mismatched.is_empty(),
        "listings differ for {mismatched:?}; rerun with SWARM_BLESS=1 if the change is intended"
    );
}
