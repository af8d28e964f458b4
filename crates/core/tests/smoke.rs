//! End-to-end behaviour of the embedding API on small modules.

use wasmi_py_core::{Config, Engine, FuncType, Linker, Module, Store, TrapCode, Val, ValType};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
    module.encode().unwrap()
}

fn instance(text: &str) -> (Store<()>, wasmi_py_core::Instance) {
    let engine = Engine::default();
    let module = Module::new(&engine, &wat(text)).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, &module).unwrap();
    (store, instance)
}

fn call(
    store: &mut Store<()>,
    inst: wasmi_py_core::Instance,
    name: &str,
    args: &[Val],
) -> Vec<Val> {
    inst.get_func(store, name)
        .unwrap()
        .call(store, args)
        .unwrap()
}

#[test]
fn recursive_fib() {
    let (mut store, inst) = instance(
        r#"(module (func $fib (export "fib") (param i32) (result i32)
            (if (result i32) (i32.lt_u (local.get 0) (i32.const 2))
              (then (local.get 0))
              (else (i32.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2))))))))"#,
    );
    assert_eq!(
        call(&mut store, inst, "fib", &[Val::I32(20)]),
        vec![Val::I32(6765)]
    );
}

#[test]
fn loop_with_locals_and_memory() {
    let (mut store, inst) = instance(
        r#"(module (memory 1)
            (func (export "sum") (param $n i32) (result i64) (local $i i32) (local $acc i64)
              (block $done (loop $next
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (i64.store (i32.mul (local.get $i) (i32.const 8)) (i64.extend_i32_u (local.get $i)))
                (local.set $acc (i64.add (local.get $acc) (i64.load (i32.mul (local.get $i) (i32.const 8)))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
              (local.get $acc)))"#,
    );
    assert_eq!(
        call(&mut store, inst, "sum", &[Val::I32(100)]),
        vec![Val::I64(4950)]
    );
}

#[test]
fn traps_carry_codes_and_backtraces() {
    let (mut store, inst) = instance(
        r#"(module (func $inner (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
                   (func (export "outer") (result i32) (call $inner (i32.const 0))))"#,
    );
    let f = inst.get_func(&store, "outer").unwrap();
    let trap = f.call(&mut store, &[]).unwrap_err();
    assert_eq!(trap.code(), Some(TrapCode::IntegerDivisionByZero));
    assert_eq!(trap.backtrace().len(), 2);
    assert_eq!(trap.backtrace()[0].name.as_deref(), Some("inner"));
    // The store is usable after a trap.
    assert_eq!(
        call(&mut store, inst, "div", &[Val::I32(1)]),
        vec![Val::I32(1)]
    );
}

#[test]
fn deep_recursion_traps_without_harming_the_host() {
    let (mut store, inst) = instance(
        r#"(module (func $f (export "f") (param i32) (result i32)
             (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
               (else (i32.add (i32.const 1) (call $f (i32.sub (local.get 0) (i32.const 1))))))))"#,
    );
    let f = inst.get_func(&store, "f").unwrap();
    let trap = f.call(&mut store, &[Val::I32(1_000_000)]).unwrap_err();
    assert_eq!(trap.code(), Some(TrapCode::StackOverflow));
    assert_eq!(
        call(&mut store, inst, "f", &[Val::I32(1000)]),
        vec![Val::I32(1000)]
    );
}

#[test]
fn declared_locals_are_zero_on_every_call_even_when_slots_are_reused() {
    // `dirty` fills the stack region that `fresh`'s frame later reuses with non-zero
    // values; `fresh` must still see its declared locals as zero, on every call.
    let (mut store, inst) = instance(
        r#"(module
            (func $dirty (param i64 i64 i64 i64) (local i64 i64 i64 i64)
              (local.set 4 (i64.const -1)) (local.set 5 (i64.const -1))
              (local.set 6 (i64.const -1)) (local.set 7 (i64.const -1)))
            (func $fresh (result i64) (local i64 i64 i64 i64 i64 i64 i64 i64)
              (local.set 0 (i64.add (local.get 0) (i64.const 1)))
              (i64.or (local.get 0)
                (i64.or (i64.or (local.get 1) (local.get 2)) (i64.or (local.get 6) (local.get 7)))))
            (func (export "run") (result i64)
              (call $dirty (i64.const -1) (i64.const -1) (i64.const -1) (i64.const -1))
              (drop (call $fresh))
              (call $dirty (i64.const -1) (i64.const -1) (i64.const -1) (i64.const -1))
              (call $fresh)))"#,
    );
    assert_eq!(call(&mut store, inst, "run", &[]), vec![Val::I64(1)]);
    assert_eq!(call(&mut store, inst, "run", &[]), vec![Val::I64(1)]);
}

#[test]
fn host_functions_see_caller_memory() {
    let engine = Engine::new(Config {
        lazy: false,
        ..Config::default()
    });
    let module = Module::new(
        &engine,
        &wat(
            r#"(module (import "env" "sum" (func $sum (param i32 i32) (result i32)))
                (memory (export "memory") 1) (data (i32.const 16) "\01\02\03\04")
                (func (export "run") (result i32) (call $sum (i32.const 16) (i32.const 4))))"#,
        ),
    )
    .unwrap();
    let mut store = Store::new(&engine, 0u32);
    let mut linker = Linker::new();
    linker.func_new(
        &mut store,
        "env",
        "sum",
        FuncType::new([ValType::I32, ValType::I32], [ValType::I32]),
        |mut caller, args, results| {
            let (Val::I32(ptr), Val::I32(len)) = (args[0], args[1]) else {
                unreachable!()
            };
            let memory = caller.memory().unwrap();
            let bytes = &memory.data(caller.store())[ptr as usize..(ptr + len) as usize];
            let sum: u32 = bytes.iter().map(|&b| u32::from(b)).sum();
            *caller.data_mut() += 1;
            results[0] = Val::I32(sum as i32);
            Ok(())
        },
    );
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let f = inst.get_func(&store, "run").unwrap();
    assert_eq!(f.call(&mut store, &[]).unwrap(), vec![Val::I32(10)]);
    assert_eq!(*store.data(), 1);
}

#[test]
fn host_results_reach_the_local_a_call_sets() {
    // A call's single result goes to the slot of the `local.set` after it (the translator
    // folds the set into the call); a host function's result must get there too, directly
    // and through a table, and a multi-value host call returns from the base as before.
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        &wat(r#"(module
                (import "env" "twice" (func $twice (param i32) (result i32)))
                (import "env" "split" (func $split (param i32) (result i32 i32)))
                (type $ii (func (param i32) (result i32)))
                (table 1 funcref) (elem (i32.const 0) $twice)
                (func (export "run") (param $x i32) (result i32) (local $a i32) (local $b i32)
                  (local.set $a (call $twice (local.get $x)))
                  (local.set $b (call_indirect (type $ii) (local.get $a) (i32.const 0)))
                  (local.set $x (call $twice (local.get $x)))
                  (call $split (local.get $b))
                  (local.set $b)
                  (local.set $a)
                  (i32.add (i32.mul (local.get $x) (i32.const 10000))
                    (i32.add (i32.mul (local.get $a) (i32.const 100)) (local.get $b)))))"#),
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    linker.func_new(
        &mut store,
        "env",
        "twice",
        FuncType::new([ValType::I32], [ValType::I32]),
        |_, args, results| {
            let Val::I32(v) = args[0] else { unreachable!() };
            results[0] = Val::I32(v * 2);
            Ok(())
        },
    );
    linker.func_new(
        &mut store,
        "env",
        "split",
        FuncType::new([ValType::I32], [ValType::I32, ValType::I32]),
        |_, args, results| {
            let Val::I32(v) = args[0] else { unreachable!() };
            results[0] = Val::I32(v / 10);
            results[1] = Val::I32(v % 10);
            Ok(())
        },
    );
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let f = inst.get_func(&store, "run").unwrap();
    // x = 3: a = 6, b = 12, x = 6, split(12) = (1, 2): 6 * 10000 + 1 * 100 + 2.
    assert_eq!(
        f.call(&mut store, &[Val::I32(3)]).unwrap(),
        vec![Val::I32(60102)]
    );
}

#[test]
fn unlinkable_imports_are_named() {
    let engine = Engine::default();
    let module = Module::new(&engine, &wat(r#"(module (import "env" "missing" (func)))"#)).unwrap();
    let mut store = Store::new(&engine, ());
    let err = Linker::new().instantiate(&mut store, &module).unwrap_err();
    assert!(err.to_string().contains("`env`.`missing`"), "{err}");
}

#[test]
fn guest_recursion_never_uses_the_native_stack() {
    // Decoding, validation, translation and execution are all iterative: a million-deep
    // guest recursion on a thread with a 256 KiB native stack must end in a trap, not a
    // native stack overflow (which would abort the whole test process).
    let result = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let (mut store, inst) = instance(
                r#"(module (func $f (export "f") (param i32) (result i32)
                     (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
                       (else (i32.add (i32.const 1) (call $f (i32.sub (local.get 0) (i32.const 1))))))))"#,
            );
            let f = inst.get_func(&store, "f").unwrap();
            f.call(&mut store, &[Val::I32(1_000_000)]).unwrap_err().code()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(result, Some(TrapCode::StackOverflow));
}
