//! `cargo run --release -p micro-bench -- [REPS] [WORKLOAD...]`: see README.md.

fn main() {
    std::process::exit(micro_bench::main_with_args(std::env::args().skip(1)));
}
