;; Not (yet) a wasmi-py bug: a bug of the reference interpreter the execute_diff fuzz target
;; compares against (wasmi 2.0.0). wasmi fuses `select` with an `i32.eqz` / `i32.eq 0` /
;; `i32.ne 0` condition by dropping the comparison and swapping the operands, but when the
;; comparison's operand is a local (a stack slot rather than its register) `select` then
;; reads a stale register as its condition. Found by the first seeded execute_diff runs:
;; wasm-smith guards every division with `(select (i32.const 1) (local.get $d)
;; (i32.eqz (local.get $d)))`, and wasmi divided by zero. wasmi-py got every case right;
;; these pin the semantics, since wasmi-py fuses compare-and-branch too.
(module
  (func (export "eqz-i32") (param i32 i32) (result i32)
    (select (local.get 0) (local.get 1) (i32.eqz (local.get 1))))
  (func (export "eqz-i64") (param i64 i64 i32) (result i64)
    (select (local.get 0) (local.get 1) (i32.eqz (local.get 2))))
  (func (export "eq0-f64") (param f64 f64 i32) (result f64)
    (select (local.get 0) (local.get 1) (i32.eq (local.get 2) (i32.const 0))))
  (func (export "ne0-typed") (param i32 i32 i32) (result i32)
    (select (result i32) (local.get 0) (local.get 1) (i32.ne (local.get 2) (i32.const 0))))
  ;; wasm-smith's division guard, after a local.set of a constant divisor.
  (func (export "guarded-rem") (result i32)
    (local i32)
    (local.set 0 (i32.const 3707304))
    (i32.rem_u (i32.const 5)
      (select (i32.const 1) (local.get 0) (i32.eqz (local.get 0)))))
  (func (export "guarded-div") (param i64) (result i64)
    (i64.div_u (i64.const 100)
      (select (i64.const 1) (local.get 0) (i64.eqz (local.get 0))))))

(assert_return (invoke "eqz-i32" (i32.const 9) (i32.const 7)) (i32.const 7))
(assert_return (invoke "eqz-i32" (i32.const 9) (i32.const 0)) (i32.const 9))
(assert_return (invoke "eqz-i64" (i64.const 7) (i64.const 9) (i32.const 1)) (i64.const 9))
(assert_return (invoke "eqz-i64" (i64.const 7) (i64.const 9) (i32.const 0)) (i64.const 7))
(assert_return (invoke "eq0-f64" (f64.const 7) (f64.const 9) (i32.const 5)) (f64.const 9))
(assert_return (invoke "eq0-f64" (f64.const 7) (f64.const 9) (i32.const 0)) (f64.const 7))
(assert_return (invoke "ne0-typed" (i32.const 7) (i32.const 9) (i32.const 5)) (i32.const 7))
(assert_return (invoke "ne0-typed" (i32.const 7) (i32.const 9) (i32.const 0)) (i32.const 9))
(assert_return (invoke "guarded-rem") (i32.const 5))
(assert_return (invoke "guarded-div" (i64.const 0)) (i64.const 100))
(assert_return (invoke "guarded-div" (i64.const 7)) (i64.const 14))
