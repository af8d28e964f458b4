;; Inlined callees read a parameter they never write straight from the caller's argument
;; (a local of the caller or a constant) instead of a copy of it in their own slot
;; (crates/core/src/translate.rs, `Translator::inline_call`; `CompiledFunc::params_written`).
;; What must hold: a callee that writes its parameter still gets a copy (the caller's local
;; is untouched: "inc-param", "mixed"); the same local as two arguments; constants as
;; arguments; a parameter returned as it is, at the end and in the middle ("id", "early");
;; the result written to the caller's local that was the argument ("set-same"); the
;; argument local read again by the caller, before and after ("around"); a loop in the
;; callee reading its parameter ("loop"); 64-bit and float parameters.
(module
  (func $inc-param (param i32) (result i32)
    (local.set 0 (i32.add (local.get 0) (i32.const 1)))
    (i32.mul (local.get 0) (i32.const 2)))
  (func $sub2 (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1)))
  (func $id (param i32) (result i32) (local.get 0))
  (func $early (param i32) (result i32)
    (if (i32.lt_s (local.get 0) (i32.const 0)) (then (return (local.get 0))))
    (i32.shl (local.get 0) (i32.const 1)))
  (func $mixed (param i32 i32) (result i32)
    (local.set 1 (i32.add (local.get 1) (local.get 0)))
    (i32.sub (local.get 1) (local.get 0)))
  (func $loop (param $n i32) (param $step i32) (result i32) (local $acc i32) (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (local.get $step)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $acc))
  (func $wide (param i64 f64) (result f64)
    (f64.add (f64.convert_i64_s (local.get 0)) (local.get 1)))

  (func (export "inc-param") (param i32) (result i32)
    ;; 2 * (x + 1) + x: the caller's x is not the callee's incremented copy.
    (i32.add (call $inc-param (local.get 0)) (local.get 0)))
  (func (export "same-twice") (param i32) (result i32)
    (call $sub2 (local.get 0) (local.get 0)))
  (func (export "consts") (result i32)
    (call $sub2 (i32.const 10) (i32.const 3)))
  (func (export "id") (param i32) (result i32)
    (i32.add (call $id (local.get 0)) (call $id (i32.const 5))))
  (func (export "early") (param i32) (result i32)
    (call $early (local.get 0)))
  (func (export "mixed") (param i32 i32) (result i32)
    ;; ((b + a) - a) + b: the callee's second parameter is written, the first is not.
    (i32.add (call $mixed (local.get 0) (local.get 1)) (local.get 1)))
  (func (export "set-same") (param i32) (result i32)
    (local.set 0 (call $sub2 (local.get 0) (i32.const 1)))
    (local.set 0 (call $sub2 (local.get 0) (local.get 0)))
    (local.get 0))
  (func (export "set-same-keep") (param i32) (result i32)
    (local.set 0 (call $sub2 (local.get 0) (i32.const 1)))
    (local.get 0))
  (func (export "around") (param i32) (result i32) (local $t i32)
    (local.get 0)
    (local.set $t (call $sub2 (local.get 0) (i32.const 4)))
    (local.set 0 (i32.const 1000))
    (i32.add (local.get $t))
    (i32.add (local.get 0)))
  (func (export "loop") (param i32) (result i32)
    (call $loop (local.get 0) (i32.const 3)))
  (func (export "wide") (param i64) (result f64)
    (call $wide (local.get 0) (f64.const 0.5)))
  (func (export "temp-arg") (param i32) (result i32)
    (call $sub2 (i32.mul (local.get 0) (i32.const 3)) (local.get 0)))
)

(assert_return (invoke "inc-param" (i32.const 5)) (i32.const 17))
(assert_return (invoke "same-twice" (i32.const 9)) (i32.const 0))
(assert_return (invoke "consts") (i32.const 7))
(assert_return (invoke "id" (i32.const 4)) (i32.const 9))
(assert_return (invoke "early" (i32.const -3)) (i32.const -3))
(assert_return (invoke "early" (i32.const 3)) (i32.const 6))
(assert_return (invoke "mixed" (i32.const 4) (i32.const 10)) (i32.const 20))
(assert_return (invoke "set-same" (i32.const 8)) (i32.const 0))
(assert_return (invoke "set-same-keep" (i32.const 8)) (i32.const 7))
(assert_return (invoke "around" (i32.const 10)) (i32.const 1016))
(assert_return (invoke "loop" (i32.const 4)) (i32.const 12))
(assert_return (invoke "wide" (i64.const -2)) (f64.const -1.5))
(assert_return (invoke "temp-arg" (i32.const 6)) (i32.const 12))
