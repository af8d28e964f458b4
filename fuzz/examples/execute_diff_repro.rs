//! Turns an `execute_diff` input (a crash artifact, or a minimised one) into what a
//! regression test needs:
//!
//! ```text
//! cd fuzz
//! cargo run --example execute_diff_repro -- artifacts/execute_diff/crash-<sha1> [out.wasm]
//! ```
//!
//! (or `-- --module FILE.wat [FUEL]` to compare a hand-written module as it is, with zero
//! arguments only, its fuel global reset to FUEL before each call if given; or `-- --seed N` for input N of `tests/execute_diff.rs`'s seeded run) prints the oracle's verdict (the divergence, if any), the module in text form
//! (wasmprinter) and wasmi's transcript of the oracle's calls as `.wast` assertions
//! (`exec_oracle::transcript`), and writes the module's binary to `out.wasm` if given.

use wasmi_py_fuzz::exec_oracle::{check_input, seeded_input, transcript};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(input) = args.first() else {
        eprintln!("usage: execute_diff_repro <input>|--seed N [out.wasm]");
        std::process::exit(2);
    };
    if input == "--module" {
        // A hand-written module (text or binary), compared as it is: zero arguments only;
        // with FUEL, its `wasmi-py-fuzz:fuel` global is set to FUEL before each call.
        let path = args.get(1).expect("--module FILE [FUEL]");
        let fuel: u32 = args.get(2).map_or(0, |f| f.parse().expect("FUEL"));
        let bytes = wat::parse_file(path).expect("parse module");
        let mut u = arbitrary::Unstructured::new(&[]);
        match wasmi_py_fuzz::exec_oracle::compare(&bytes, fuel, &mut u) {
            Ok(v) => println!(";; verdict: {v:?}"),
            Err(d) => println!(
                ";; DIVERGENCE:\n;; {}",
                d.to_string().replace('\n', "\n;; ")
            ),
        }
        return;
    }
    let (data, rest) = if input == "--seed" {
        let seed: u64 = args.get(1).and_then(|s| s.parse().ok()).expect("--seed N");
        (seeded_input(seed), &args[2..])
    } else {
        (std::fs::read(input).expect("read input"), &args[1..])
    };
    match check_input(&data) {
        Ok(v) => println!(";; verdict: {v:?}"),
        Err(d) => println!(
            ";; DIVERGENCE:\n;; {}",
            d.to_string().replace('\n', "\n;; ")
        ),
    }
    let Some((bytes, lines)) = transcript(&data) else {
        println!(";; wasm-smith makes no module from this input");
        return;
    };
    if let Some(out) = rest.first() {
        std::fs::write(out, &bytes).expect("write module");
    }
    match wasmprinter::print_bytes(&bytes) {
        Ok(text) => println!("{text}"),
        Err(e) => println!(";; wasmprinter: {e}"),
    }
    println!("\n;; wasmi's outcomes:\n{lines}");
}
