//! The code cache (`Module::with_code_cache`): bodies saved by one module load are used by
//! the next, give the same results, and a damaged file is noticed instead of run.

use std::path::{Path, PathBuf};

use wasmi_py_core::{CodeCacheStats, Config, Engine, Linker, Module, Store, Val};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
    module.encode().unwrap()
}

/// Calls, `call_indirect`, globals, memory (loads, stores, `memory.grow/fill/init`),
/// `br_table`, loops and constants of every type: `run` folds them into one number.
const MODULE: &str = r#"(module
  (type $un (func (param i64) (result i64)))
  (memory 1)
  (data $d "\01\02\03\04\05\06\07\08")
  (global $g (mut i64) (i64.const 7))
  (table 3 funcref)
  (elem (i32.const 0) $double $square $classify)
  (func $double (type $un) (i64.mul (local.get 0) (i64.const 2)))
  (func $square (type $un) (i64.mul (local.get 0) (local.get 0)))
  (func $classify (type $un)
    (block $c (block $b (block $a
      (br_table $a $b $c (i32.wrap_i64 (i64.rem_u (local.get 0) (i64.const 3)))))
      (return (i64.const 100)))
      (return (i64.const 200)))
    (i64.const 300))
  (func $floats (param i32) (result i64)
    (local $x f64)
    (local.set $x (f64.mul (f64.convert_i32_s (local.get 0)) (f64.const 1.5)))
    (i64.add (i64.trunc_f64_s (f64.sqrt (local.get $x)))
             (i64.extend_i32_s (i32.trunc_f32_s (f32.const -2.75)))))
  (func $mem (param i32) (result i64)
    (drop (memory.grow (i32.const 1)))
    (memory.fill (i32.const 64) (local.get 0) (i32.const 16))
    (memory.init $d (i32.const 100) (i32.const 2) (i32.const 4))
    (i64.store offset=8 (i32.const 200) (i64.load (i32.const 64)))
    (i64.add (i64.load offset=8 (i32.const 200))
             (i64.add (i64.load32_u (i32.const 100)) (i64.extend_i32_u (memory.size)))))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (loop $next
      (local.set $acc (i64.add (local.get $acc)
        (call_indirect (type $un) (i64.extend_i32_u (local.get $i))
                       (i32.rem_u (local.get $i) (i32.const 3)))))
      (global.set $g (i64.xor (global.get $g) (local.get $acc)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (i64.add (local.get $acc) (global.get $g))
             (i64.add (call $floats (local.get $n)) (call $mem (local.get $n))))))"#;

/// Bodies `run` calls: run, double, square, classify, floats, mem.
const BODIES: usize = 6;

/// A fresh directory under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("wasmi-py-code-cache-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(module: &Module) -> i64 {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let instance = Linker::new().instantiate(&mut store, module).unwrap();
    let result = instance
        .get_func(&store, "run")
        .unwrap()
        .call(&mut store, &[Val::I32(50)])
        .unwrap();
    match result[..] {
        [Val::I64(v)] => v,
        _ => panic!("{result:?}"),
    }
}

fn cached(bytes: &[u8], dir: &Path) -> Module {
    Module::with_code_cache(&Engine::default(), bytes, dir).unwrap()
}

/// [`cached`] without decoding ahead (`Config::decode_ahead`): the cache's statistics
/// count only the bodies the program itself called.
fn cached_calls_only(bytes: &[u8], dir: &Path) -> Module {
    let engine = Engine::new(Config {
        decode_ahead: false,
        ..Config::default()
    });
    Module::with_code_cache(&engine, bytes, dir).unwrap()
}

/// The one cache file in `dir`.
fn cache_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[test]
fn saved_bodies_are_used_by_the_next_load_with_the_same_results() {
    let bytes = wat(MODULE);
    let expected = run(&Module::new(&Engine::default(), &bytes).unwrap());
    let dir = temp_dir("reuse");

    let first = cached(&bytes, &dir);
    assert_eq!(run(&first), expected);
    let translated = CodeCacheStats {
        hits: 0,
        misses: BODIES,
    };
    assert_eq!(first.code_cache_stats(), Some(translated));
    assert!(first.save_code_cache().unwrap(), "new bodies are written");
    assert!(
        !first.save_code_cache().unwrap(),
        "nothing new the second time"
    );
    let file = cache_file(&dir);
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        name.ends_with(".code") && name.len() == 64 + 1 + 16 + 5,
        "{name}"
    );

    let second = cached(&bytes, &dir);
    assert_eq!(run(&second), expected);
    let from_cache = CodeCacheStats {
        hits: BODIES,
        misses: 0,
    };
    assert_eq!(second.code_cache_stats(), Some(from_cache));
    assert!(
        !second.save_code_cache().unwrap(),
        "everything came from the file"
    );
    assert_eq!(
        Module::new(&Engine::default(), &bytes)
            .unwrap()
            .code_cache_stats(),
        None
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_file_is_noticed_and_its_bodies_translated() {
    let bytes = wat(MODULE);
    let expected = run(&Module::new(&Engine::default(), &bytes).unwrap());
    let dir = temp_dir("damaged");
    let first = cached(&bytes, &dir);
    run(&first);
    first.save_code_cache().unwrap();
    let file = cache_file(&dir);
    let good = std::fs::read(&file).unwrap();

    // Every byte changed (two ways), and the file cut short at every length: the results
    // stay right, and every body is either taken intact or translated.
    let mut damaged_files: Vec<Vec<u8>> = Vec::new();
    for i in 0..good.len() {
        for flip in [0x01, 0x80] {
            let mut bad = good.clone();
            bad[i] ^= flip;
            damaged_files.push(bad);
        }
    }
    damaged_files.extend((0..good.len()).map(|n| good[..n].to_vec()));
    for bad in &damaged_files {
        std::fs::write(&file, bad).unwrap();
        let module = cached(&bytes, &dir);
        assert_eq!(run(&module), expected);
        let stats = module.code_cache_stats().unwrap();
        assert_eq!(stats.hits + stats.misses, BODIES);
        assert!(stats.misses > 0, "damage went unnoticed");
    }
    // Saving over a damaged file repairs it.
    std::fs::write(&file, &damaged_files[damaged_files.len() / 2]).unwrap();
    let module = cached(&bytes, &dir);
    run(&module);
    assert!(module.save_code_cache().unwrap());
    let module = cached(&bytes, &dir);
    run(&module);
    assert_eq!(module.code_cache_stats().unwrap().misses, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_is_only_used_for_its_own_module() {
    let bytes = wat(MODULE);
    let other = wat(&MODULE.replace("(i64.const 300)", "(i64.const 301)"));
    let expected_other = run(&Module::new(&Engine::default(), &other).unwrap());
    let dir = temp_dir("other");
    let first = cached(&bytes, &dir);
    run(&first);
    first.save_code_cache().unwrap();
    let file = cache_file(&dir);

    // The other module's cache file name, found by saving it once.
    let probe = cached(&other, &dir);
    run(&probe);
    probe.save_code_cache().unwrap();
    let other_file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| *p != file)
        .unwrap();
    // Module A's file under module B's name is not B's code.
    std::fs::copy(&file, &other_file).unwrap();
    let module = cached(&other, &dir);
    assert_eq!(run(&module), expected_other);
    assert_eq!(module.code_cache_stats().unwrap().hits, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unwritable_cache_directory_only_means_translating() {
    let bytes = wat(MODULE);
    let dir = temp_dir("unwritable");
    // A file where the directory should be: nothing can be created beneath it.
    let blocked = dir.join("not-a-dir");
    std::fs::write(&blocked, b"").unwrap();
    let module = cached(&bytes, &blocked);
    let expected = run(&Module::new(&Engine::default(), &bytes).unwrap());
    assert_eq!(run(&module), expected);
    assert!(module.save_code_cache().is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Code with an inlined body (`$leaf` runs before `$run` is translated, so `$run` inlines
/// it: src/inline.rs) comes back from the cache with its record of the inlined range: a
/// trap inside it still shows `$leaf`'s frame, also in a process that never translated
/// `$leaf`, and damage anywhere in the file changes neither.
#[test]
fn inlined_code_comes_back_with_its_frames() {
    let bytes = wat(r#"(module
      (memory 1)
      (func $leaf (param i32) (result i32) (i32.load (local.get 0)))
      (func $warm (export "warm") (param i32) (result i32) (call $leaf (local.get 0)))
      (func $run (export "run") (param i32) (result i32)
        (i32.add (call $leaf (local.get 0)) (i32.const 1))))"#);
    // (result of run(0), names in the backtrace of run(-1))
    let check = |module: &Module, warm: bool| -> (Vec<Val>, Vec<String>) {
        let mut store = Store::new(&Engine::default(), ());
        let instance = Linker::new().instantiate(&mut store, module).unwrap();
        if warm {
            let f = instance.get_func(&store, "warm").unwrap();
            f.call(&mut store, &[Val::I32(0)]).unwrap();
        }
        let f = instance.get_func(&store, "run").unwrap();
        let trap = f.call(&mut store, &[Val::I32(-1)]).unwrap_err();
        let names = trap
            .backtrace()
            .iter()
            .map(|frame| frame.name.clone().unwrap_or_default())
            .collect();
        (f.call(&mut store, &[Val::I32(0)]).unwrap(), names)
    };
    let expected = (
        vec![Val::I32(1)],
        vec!["leaf".to_string(), "run".to_string()],
    );
    let dir = temp_dir("inlined");
    let first = cached(&bytes, &dir);
    assert_eq!(check(&first, true), expected);
    first.save_code_cache().unwrap();
    let file = cache_file(&dir);
    let good = std::fs::read(&file).unwrap();

    // Loaded without decoding ahead, which would load `$leaf` and `$warm` too.
    let second = cached_calls_only(&bytes, &dir);
    assert_eq!(check(&second, false), expected);
    let stats = second.code_cache_stats().unwrap();
    assert_eq!(
        (stats.hits, stats.misses),
        (1, 0),
        "only `$run` ran, from the file"
    );

    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x10;
        std::fs::write(&file, &bad).unwrap();
        assert_eq!(check(&cached(&bytes, &dir), false), expected, "byte {i}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
