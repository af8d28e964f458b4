//! The sampling profiler (`Store::start_profile`): stacks named from the name section and
//! the imports, time where the work is, and no change to what the program computes.

use std::time::Duration;

use wasmi_py_core::{Engine, FuncType, Linker, Module, Store, Val};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
    module.encode().unwrap()
}

/// `run(n)`: `$heavy` loops `n` times, `$light` ten times, and the host's `env.pause`
/// sleeps (its time is the host's, charged under `run`).
const MODULE: &str = r#"(module
  (import "env" "pause" (func $pause))
  (func $spin (param $n i32) (result i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $n) (i32.const 3))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $acc))
  (func $heavy (param i32) (result i32) (call $spin (local.get 0)))
  (func $light (result i32) (call $spin (i32.const 10)))
  (func (export "run") (param i32) (result i32)
    (call $pause)
    (i32.add (call $heavy (local.get 0)) (call $light))))"#;

fn setup() -> (Store<()>, wasmi_py_core::Func) {
    let engine = Engine::default();
    let module = Module::new(&engine, &wat(MODULE)).unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    linker.func_new(
        &mut store,
        "env",
        "pause",
        FuncType::new([], []),
        |_, _, _| {
            std::thread::sleep(Duration::from_millis(20));
            Ok(())
        },
    );
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let run = inst.get_func(&store, "run").unwrap();
    (store, run)
}

#[test]
fn stacks_are_named_and_time_is_where_the_work_is() {
    let (mut store, run) = setup();
    let expected = run.call(&mut store, &[Val::I32(2_000_000)]).unwrap();

    assert!(
        store.profile().is_none(),
        "no profile before one is started"
    );
    store.start_profile(100);
    assert_eq!(store.fuel(), None, "a profiled store is not metered");
    let got = run.call(&mut store, &[Val::I32(2_000_000)]).unwrap();
    assert_eq!(got, expected, "profiling changes no result");
    let profile = store.profile().expect("a running profile");

    let stacks: Vec<(Vec<&str>, Duration)> = profile.stacks().collect();
    assert!(!stacks.is_empty());
    for (names, _) in &stacks {
        // Outermost first; `run` has no name-section name but an export (unnamed: func[N]).
        assert!(names[0].starts_with("func["), "{names:?}");
    }
    let time_of = |stack: &[&str]| -> Duration {
        stacks
            .iter()
            .filter(|(names, _)| names[1..] == *stack)
            .map(|(_, t)| *t)
            .sum()
    };
    // The host function's time is charged to it, under its caller, and is at least the
    // sleep.
    assert!(time_of(&["env.pause"]) >= Duration::from_millis(20));
    // Two million iterations against ten: `$spin` under `$heavy` has (nearly) all samples.
    let heavy = time_of(&["heavy", "spin"]);
    assert!(heavy > time_of(&["light", "spin"]), "{stacks:?}");

    let functions = profile.functions();
    let spin = functions.iter().find(|f| f.name == "spin").unwrap();
    let heavy_fn = functions.iter().find(|f| f.name == "heavy").unwrap();
    assert!(
        spin.self_time >= heavy,
        "spin's self time includes its time under heavy"
    );
    assert!(heavy_fn.total_time >= heavy && heavy_fn.self_time < heavy_fn.total_time);
    let total: Duration = functions.iter().map(|f| f.self_time).sum();
    assert_eq!(total, profile.total(), "self times add up to the whole");

    let mut folded = Vec::new();
    profile.write_folded(&mut folded).unwrap();
    let folded = String::from_utf8(folded).unwrap();
    let pause_line = folded
        .lines()
        .find(|l| l.contains(";env.pause "))
        .expect("a line for the host function");
    let (stack, micros) = pause_line.rsplit_once(' ').unwrap();
    assert_eq!(stack.split(';').count(), 2, "{pause_line}");
    assert!(micros.parse::<u64>().unwrap() >= 20_000, "{pause_line}");
}

#[test]
fn setting_fuel_ends_the_profile_and_metering_works_again() {
    let (mut store, run) = setup();
    store.start_profile(1);
    run.call(&mut store, &[Val::I32(10)]).unwrap();
    assert!(store.profile().is_some());
    store.set_fuel(Some(5));
    assert!(store.profile().is_none());
    let trap = run.call(&mut store, &[Val::I32(1000)]).unwrap_err();
    assert!(trap.to_string().contains("fuel"), "{trap}");
}

#[test]
fn a_new_profile_starts_empty() {
    let (mut store, run) = setup();
    store.start_profile(10);
    run.call(&mut store, &[Val::I32(100_000)]).unwrap();
    assert!(store.profile().unwrap().total() >= Duration::from_millis(20));
    store.start_profile(10);
    assert_eq!(store.profile().unwrap().total(), Duration::ZERO);
}

/// Loops closed by `br_if`, `br` and `br_table` (with `i32.and` feeding it, which the
/// translator fuses), sampled at every call and backward jump: same results as unprofiled.
#[test]
fn sampling_at_every_unit_changes_no_result() {
    let text = r#"(module
      (func $f (param $n i32) (result i32) (local $acc i32) (local $i i32)
        (block $exit
          (loop $l
            (local.set $acc (i32.add (local.get $acc) (call $g (local.get $i))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $exit (i32.ge_u (local.get $i) (local.get $n)))
            (br_table $l $l $exit (i32.and (local.get $i) (i32.const 1)))))
        (loop $m
          (local.set $acc (i32.mul (local.get $acc) (i32.const 3)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br_if $m (i32.gt_s (local.get $n) (i32.const 0))))
        (local.get $acc))
      (func $g (param i32) (result i32) (i32.xor (local.get 0) (i32.const 0x55)))
      (export "f" (func $f)))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, &wat(text)).unwrap();
    let results = |profile: bool| -> Vec<Val> {
        let mut store = Store::new(&engine, ());
        let inst = Linker::new().instantiate(&mut store, &module).unwrap();
        let f = inst.get_func(&store, "f").unwrap();
        if profile {
            store.start_profile(1);
        }
        let out = (0..50)
            .map(|n| f.call(&mut store, &[Val::I32(n)]).unwrap()[0])
            .collect();
        assert_eq!(store.profile().is_some(), profile);
        out
    };
    assert_eq!(results(true), results(false));
}

/// Deep recursion: a sample keeps the innermost 256 frames below an `[outer frames]`
/// marker, so memory does not grow with the square of the depth; no time is lost.
#[test]
fn deep_stacks_keep_their_innermost_frames() {
    let text = r#"(module
      (func $down (param $n i32) (result i32) (local $i i32)
        (if (result i32) (i32.eqz (local.get $n))
          (then
            (loop $l
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
            (local.get $i))
          (else (call $down (i32.sub (local.get $n) (i32.const 1))))))
      (func (export "run") (param i32) (result i32) (call $down (local.get 0))))"#;
    let engine = Engine::default();
    let module = Module::new(&engine, &wat(text)).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Linker::new().instantiate(&mut store, &module).unwrap();
    let run = inst.get_func(&store, "run").unwrap();
    store.start_profile(10);
    for depth in [10, 5_000] {
        assert_eq!(
            run.call(&mut store, &[Val::I32(depth)]).unwrap(),
            [Val::I32(100_000)]
        );
    }
    let profile = store.profile().unwrap();
    let stacks: Vec<(Vec<&str>, Duration)> = profile.stacks().collect();
    assert!(stacks.iter().all(|(names, _)| names.len() <= 257));
    let deep: Vec<_> = stacks
        .iter()
        .filter(|(names, _)| names[0] == "[outer frames]")
        .collect();
    assert!(!deep.is_empty(), "the 5,000-deep samples are truncated");
    assert!(deep
        .iter()
        .all(|(names, _)| names.len() == 257 && names[1..].iter().all(|&n| n == "down")));
    // One stack per depth sampled up to 256, then all deeper ones are the same.
    assert!(stacks.len() < 100, "{} stacks", stacks.len());
    let total: Duration = stacks.iter().map(|(_, t)| *t).sum();
    assert_eq!(total, profile.total());
}
