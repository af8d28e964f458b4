;; Bug (translator): `local.set`/`local.tee` right after a `drop` of a value that an
;; instruction had just computed stored the *dropped* value into the local instead of the
;; operand below it: the result of the last instruction was retargeted to the local
;; although that instruction's result was no longer the top of the stack. wasmi-py
;; returned 16 (7 + 9) for "set" and 0.0 (the bits of extend8_s(-32768) = 0) for "tee".
;; Found by the execute_diff fuzz target (wasmi 2.0.0 as the reference) within minutes:
;; fuzz/regressions/execute_diff/local-set-after-drop-crash-8015449929a4c916b2df42422e0a8285d4a5698d.
(module
  (func (export "set") (param i32) (result i32)
    (local i32)
    (i32.add (local.get 0) (i32.const 1))
    (drop (i32.add (i32.const 7) (i32.const 9)))
    (local.set 1)
    (local.get 1))
  (func (export "tee") (param i32) (result f32)
    (local f32)
    (f32.convert_i32_s (local.get 0))
    (drop (i64.extend8_s (i64.const -32768)))
    (local.tee 1))
  (func (export "tee-read-back") (param i32) (result f32)
    (local f32)
    (f32.convert_i32_s (local.get 0))
    (drop (i64.extend8_s (i64.const -32768)))
    (local.tee 1)
    (drop)
    (local.get 1))
  ;; The dropped value depends on a parameter (no constant folding possible).
  (func (export "set-param") (param i32 i32) (result i32)
    (local i32)
    (i32.mul (local.get 0) (i32.const 3))
    (drop (i32.add (local.get 1) (i32.const 100)))
    (local.set 2)
    (local.get 2))
  ;; The same with nothing dropped in between (these always worked).
  (func (export "set-plain") (param i32) (result i32)
    (local i32)
    (local.set 1 (i32.add (local.get 0) (i32.const 1)))
    (local.get 1)))

(assert_return (invoke "set" (i32.const 41)) (i32.const 42))
(assert_return (invoke "tee" (i32.const -1)) (f32.const -1))
(assert_return (invoke "tee" (i32.const 3)) (f32.const 3))
(assert_return (invoke "tee-read-back" (i32.const -1)) (f32.const -1))
(assert_return (invoke "set-param" (i32.const 5) (i32.const 7)) (i32.const 15))
(assert_return (invoke "set-plain" (i32.const 41)) (i32.const 42))
