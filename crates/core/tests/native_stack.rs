//! Guard for the threaded interpreter: no handler may grow the native stack.
//!
//! In optimised builds the interpreter's handlers chain into each other with calls in tail
//! position, which LLVM turns into jumps (see `src/exec.rs`, "Threaded execution"). Stable
//! Rust cannot *require* that: a change that makes one handler's dispatch a real call
//! (a value with a destructor alive across it, a by-reference argument, …) would make
//! every execution of that instruction push a native frame, until a long-running guest
//! overflows the native stack. This test runs a loop that executes every kind of
//! instruction (the numeric and memory ones generated from the operator table, the rest
//! written out) 100,000 times on a thread with a 256 KiB native stack: a handler that
//! leaks even 16 bytes per execution needs 1.6 MB and crashes the test process.

use wasmi_py_core::{Engine, Linker, Module, Store, Val};

fn wat(text: &str) -> Vec<u8> {
    let buf = wast::parser::ParseBuffer::new(text).unwrap();
    let mut module = wast::parser::parse::<wast::Wat>(&buf).unwrap();
    module.encode().unwrap()
}

/// One `(mnemonic, typing, operand types)` per numeric/memory row of the operator table.
macro_rules! rows {
    ($( $feat:ident [$($enc:tt)+] $name:ident { $($f:tt)* } $mnem:literal $kind:ident ( $($ty:tt)* ) ; )*) => {
        &[ $( (stringify!($feat), $mnem, stringify!($kind), stringify!($($ty)*)) ),* ]
    };
}
const ROWS: &[(&str, &str, &str, &str)] = wasmi_py_core::decode::for_each_operator!(rows);

/// A statement that executes the instruction `mnem` once with well-defined, non-trapping
/// operands (`$a_T`/`$b_T` are locals of type `T`; `$p` an in-bounds address).
fn exercise(mnem: &str, kind: &str, tys: &str) -> Option<String> {
    let words: Vec<&str> = tys.split_whitespace().collect();
    match kind {
        "sig" => {
            let arrow = words.iter().position(|w| *w == "->")?;
            let (params, results) = (&words[..arrow], &words[arrow + 1..]);
            if params.is_empty() {
                return None; // constants: operands, not instructions, after translation
            }
            let args: Vec<String> = params
                .iter()
                .enumerate()
                .map(|(i, t)| format!("(local.get ${}_{t})", if i == 0 { "a" } else { "b" }))
                .collect();
            let call = format!("({mnem} {})", args.join(" "));
            Some(match results {
                [r] => format!("(local.set $r_{r} {call})"),
                _ => return None,
            })
        }
        "load" => Some(format!(
            "(local.set $r_{} ({mnem} offset=8 (local.get $p)))",
            words[0]
        )),
        "store" => Some(format!(
            "({mnem} offset=8 (local.get $p) (local.get $a_{}))",
            words[0]
        )),
        _ => None,
    }
}

/// Every instruction kind the translator emits, inside one loop iteration.
fn loop_body() -> String {
    let mut body = String::new();
    let mut generated = 0;
    for &(feature, mnem, kind, tys) in ROWS {
        if feature == "simd" {
            continue; // not executable yet
        }
        if let Some(stmt) = exercise(mnem, kind, tys) {
            body.push_str(&stmt);
            body.push('\n');
            generated += 1;
        }
    }
    assert!(generated > 150, "only {generated} rows generated");
    // Fused compare-and-branch, test-and-branch and plain branches.
    for ty in ["i32", "i64"] {
        for cmp in [
            "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u",
        ] {
            body.push_str(&format!(
                "(block $out (br_if $out ({ty}.{cmp} (local.get $a_{ty}) (local.get $b_{ty}))))\n\
                 (if ({ty}.{cmp} (local.get $b_{ty}) (local.get $a_{ty})) (then (nop)) (else (nop)))\n"
            ));
        }
    }
    // Copies before a jump back to a masked jump table: one, then two.
    for extra_copy in ["", "(local.set $c_i64 (local.get $b_i64))"] {
        body.push_str(&format!(
            "(local.set $c_i32 (i32.const 0))
            (loop $d
              (block $b (block $a
                (br_table $a $b (i32.and (local.get $c_i32) (i32.const 1))))
                (local.set $r_i32 (i32.add (local.get $c_i32) (i32.const 1)))
                {extra_copy}
                (local.set $c_i32 (local.get $r_i32))
                (br $d)))\n"
        ));
    }
    body.push_str(
        r#"(block $out (br_if $out (i32.and (local.get $a_i32) (local.get $b_i32))))
        (block $out (br_if $out (i32.eqz (i32.and (local.get $a_i32) (local.get $b_i32)))))
        (block $out (br_if $out (i32.eqz (local.get $a_i32))))
        (block $out (br_if $out (local.get $a_i32)))
        (block $b2 (block $b1 (block $b0
          (br_table $b0 $b1 $b2 (i32.and (local.get $i) (i32.const 3))))))
        ;; superinstructions: add feeding a load/store, copies
        (local.set $r_i32 (i32.load offset=4 (i32.add (local.get $p) (local.get $b_i32))))
        (local.set $r_i32 (i32.load8_u offset=4 (i32.add (local.get $p) (local.get $b_i32))))
        (i32.store offset=4 (i32.add (local.get $p) (local.get $b_i32)) (local.get $a_i32))
        (local.set $c_i32 (local.get $a_i32))
        (local.set $c_i32 (local.get $b_i32)) (local.set $c_i64 (local.get $b_i64))
        (local.set $r_i32 (select (local.get $a_i32) (local.get $b_i32) (local.get $i)))
        (local.set $r_i64 (select (result i64) (local.get $a_i64) (local.get $b_i64) (local.get $i)))
        ;; an instruction fetch before the jump back (CPython's eval loop)
        (i32.store16 offset=2 (local.get $p) (i32.const 0x0301))
        (local.set $c_i32 (i32.const 0))
        (loop $d
          (block $b (block $a
            (br_table $a $b (i32.and (local.get $c_i32) (i32.const 1))))
            (local.set $r_i32 (i32.add (local.get $p) (i32.const 2)))
            (local.set $c_i32 (i32.load16_u offset=2 (local.get $p)))
            (local.set $r_i32 (i32.shr_u (local.get $c_i32) (i32.const 8)))
            (br $d)))
        ;; globals (global 0 has its own instructions: a stack frame's prologue and
        ;; epilogue), memory
        (global.set $g (local.tee $c_i32 (i32.sub (global.get $g) (i32.const 1))))
        (global.set $g (i32.add (global.get $g) (i32.const 2)))
        (global.set $h (i32.add (global.get $h) (i32.const 1)))
        (local.set $r_i32 (memory.size))
        (local.set $r_i32 (memory.grow (i32.const 0)))
        (memory.fill (local.get $p) (i32.const 7) (i32.const 16))
        (memory.copy (i32.const 64) (local.get $p) (i32.const 16))
        (memory.init $d (i32.const 128) (i32.const 0) (i32.const 0))
        (data.drop $d)
        ;; tables and references
        (table.set $t (i32.const 2) (table.get $t (i32.const 0)))
        (local.set $r_i32 (table.size $t))
        (local.set $r_i32 (table.grow $t (ref.null func) (i32.const 0)))
        (table.fill $t (i32.const 3) (ref.func $id) (i32.const 1))
        (table.copy $t $t (i32.const 2) (i32.const 0) (i32.const 2))
        (table.init $t $e (i32.const 0) (i32.const 0) (i32.const 0))
        (elem.drop $e)
        (local.set $r_i32 (ref.is_null (ref.func $id)))
        ;; calls and the three kinds of return
        (local.set $r_i32 (call $id (local.get $a_i32)))
        (local.set $r_i32 (call_indirect $t (type $un) (local.get $a_i32) (i32.const 0)))
        (call $none)
        (call $two (local.get $a_i32))
        (local.set $r_i32) (local.set $c_i32)
        "#,
    );
    body
}

fn module_text() -> String {
    let mut locals = String::new();
    for ty in ["i32", "i64", "f32", "f64"] {
        for prefix in ["a", "b", "c", "r"] {
            locals.push_str(&format!("(local ${prefix}_{ty} {ty}) "));
        }
    }
    format!(
        r#"(module
          (type $un (func (param i32) (result i32)))
          (memory 1)
          (data $d "abcdefgh")
          (table $t 4 funcref)
          (elem (i32.const 0) func $id $id)
          (elem $e func $id $id)
          (global $g (mut i32) (i32.const 0))
          (global $h (mut i32) (i32.const 0))
          (func $id (type $un) (local.get 0))
          (func $none)
          (func $two (param i32) (result i32 i32) (local.get 0) (i32.const 1))
          (func (export "run") (param $n i32) (result i32)
            (local $i i32) (local $p i32)
            {locals}
            (local.set $p (i32.const 256))
            (local.set $a_i32 (i32.const 7)) (local.set $b_i32 (i32.const 3))
            (local.set $a_i64 (i64.const 7)) (local.set $b_i64 (i64.const 3))
            (local.set $a_f32 (f32.const 3.5)) (local.set $b_f32 (f32.const 1.25))
            (local.set $a_f64 (f64.const 3.5)) (local.set $b_f64 (f64.const 1.25))
            (loop $l
              {body}
              (br_if $l (i32.lt_u
                (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                (local.get $n))))
            (local.get $i)))"#,
        body = loop_body()
    )
}

#[test]
fn handlers_do_not_grow_the_native_stack() {
    let bytes = wat(&module_text());
    let iterations = 100_000;
    let result = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let engine = Engine::default();
            let module = Module::new(&engine, &bytes).unwrap();
            let mut store = Store::new(&engine, ());
            let inst = Linker::new().instantiate(&mut store, &module).unwrap();
            let run = inst.get_func(&store, "run").unwrap();
            run.call(&mut store, &[Val::I32(iterations)]).unwrap()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(result, vec![Val::I32(iterations)]);
}
