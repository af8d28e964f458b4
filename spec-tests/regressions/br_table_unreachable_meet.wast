;; Bug (validator): in unreachable code br_table re-pushed each target's *expected* types
;; instead of the popped (unknown) ones, so targets of different types were rejected.
;; Found by wasm-v2/unreached-valid.wast:49.
(module
  (func (export "meet-bottom")
    (block (result f64)
      (block (result f32)
        (unreachable)
        (br_table 0 1 1 (i32.const 1)))
      (drop)
      (f64.const 0))
    (drop)))

(assert_trap (invoke "meet-bottom") "unreachable")
