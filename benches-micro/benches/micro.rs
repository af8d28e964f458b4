//! `cargo bench -p micro-bench -- [REPS] [WORKLOAD...]`: the same report as the binary.

fn main() {
    std::process::exit(micro_bench::main_with_args(std::env::args().skip(1)));
}
