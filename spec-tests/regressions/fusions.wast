;; Semantics the translator's fusions must keep (not a bug found: a guard for them).
;; - i32.add feeding i32.load/i32.load8_u/i32.store: the add wraps at 32 bits, the offset is
;;   then added without wrapping (so a wrapped address can still be in bounds, and an
;;   offset past 4 GiB traps).
;; - comparisons, `and` and `eqz` of them feeding br_if/if, also when locals on the operand
;;   stack must be copied at the `if` (the comparison moves past those copies).
;; - adjacent copies merged into one instruction (call arguments).
;; Bug found while adding the eqz look-through (CPython's Py_Initialize trapped; the spec
;; suites passed): `local.tee` folded into an `and` makes the eqz read the local, and the
;; fusion then removed the `and`, so the local was never written ("tee-eqz" below).
(module
  (memory 1)
  (data (i32.const 0) "\01\02\03\04\05\06\07\08")
  (func (export "load-wrap") (result i32)
    (i32.load offset=4 (i32.add (i32.const 0xfffffffc) (i32.const 4))))
  (func (export "load8-wrap") (param i32 i32) (result i32)
    (i32.load8_u offset=1 (i32.add (local.get 0) (local.get 1))))
  (func (export "load-oob") (param i32) (result i32)
    (i32.load offset=0xfffffff0 (i32.add (local.get 0) (i32.const 0x20))))
  (func (export "store-wrap") (param i32) (result i32)
    (i32.store offset=8 (i32.add (local.get 0) (i32.const 0xfffffff8)) (i32.const 0x11223344))
    (i32.load (local.get 0)))
  (func (export "and-branch") (param i32 i32) (result i32)
    (block (br_if 0 (i32.and (local.get 0) (local.get 1))) (return (i32.const 0)))
    (i32.const 1))
  (func (export "eqz-and-branch") (param i32 i32) (result i32)
    (block (br_if 0 (i32.eqz (i32.and (local.get 0) (local.get 1)))) (return (i32.const 0)))
    (i32.const 1))
  (func (export "if-with-locals-on-stack") (param i32 i32) (result i32)
    ;; local 0 is on the operand stack across the `if` and is written inside it.
    (local.get 0)
    (if (i32.lt_s (local.get 0) (local.get 1))
      (then (local.set 0 (i32.const 100))))
    (i32.add (local.get 0)))
  (func (export "if-eqz-compare") (param i32 i32) (result i32)
    (if (result i32) (i32.eqz (i32.ge_u (local.get 0) (local.get 1)))
      (then (i32.const 1)) (else (i32.const 2))))
  (func (export "tee-eqz") (param i32 i32) (result i32)
    (local i32)
    (block (br_if 0 (i32.eqz (local.tee 2 (i32.and (local.get 0) (local.get 1))))))
    (local.get 2))
  ;; The drop hazard execute_diff found for local.set (local_set_after_drop.wast), on a
  ;; branch: the condition is the lt_s below the dropped eq, not the eq.
  (func (export "branch-after-drop") (param i32 i32) (result i32)
    (block
      (i32.lt_s (local.get 0) (local.get 1))
      (drop (i32.eq (local.get 0) (local.get 0)))
      (br_if 0)
      (return (i32.const 0)))
    (i32.const 1))
  (func $sum3 (param i32 i32 i32) (result i32)
    (i32.add (local.get 0) (i32.add (local.get 1) (local.get 2))))
  (func (export "copies") (param i32) (result i32)
    (call $sum3 (local.get 0) (i32.const 10) (local.get 0))))

(assert_return (invoke "load-wrap") (i32.const 0x08070605))
(assert_return (invoke "load8-wrap" (i32.const 0xffffffff) (i32.const 2)) (i32.const 3))
(assert_trap (invoke "load-oob" (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "store-wrap" (i32.const 16)) (i32.const 0x11223344))
(assert_return (invoke "and-branch" (i32.const 6) (i32.const 3)) (i32.const 1))
(assert_return (invoke "and-branch" (i32.const 4) (i32.const 3)) (i32.const 0))
(assert_return (invoke "eqz-and-branch" (i32.const 4) (i32.const 3)) (i32.const 1))
(assert_return (invoke "eqz-and-branch" (i32.const 6) (i32.const 3)) (i32.const 0))
(assert_return (invoke "if-with-locals-on-stack" (i32.const 1) (i32.const 2)) (i32.const 101))
(assert_return (invoke "if-with-locals-on-stack" (i32.const 3) (i32.const 2)) (i32.const 6))
(assert_return (invoke "if-eqz-compare" (i32.const 1) (i32.const 2)) (i32.const 1))
(assert_return (invoke "if-eqz-compare" (i32.const 2) (i32.const 2)) (i32.const 2))
(assert_return (invoke "copies" (i32.const 5)) (i32.const 20))
(assert_return (invoke "tee-eqz" (i32.const 6) (i32.const 3)) (i32.const 2))
(assert_return (invoke "tee-eqz" (i32.const 4) (i32.const 3)) (i32.const 0))
(assert_return (invoke "branch-after-drop" (i32.const 5) (i32.const 3)) (i32.const 0))
(assert_return (invoke "branch-after-drop" (i32.const 1) (i32.const 3)) (i32.const 1))
