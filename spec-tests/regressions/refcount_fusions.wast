;; CPython's reference counting as clang compiles it for wasm32, which the translator
;; merges into one instruction each (crates/core/src/translate.rs, `fused_pair`,
;; `fused_quad`); they must behave as the instructions they replace:
;; - `Py_INCREF`: load the count, skip if it is the immortal value, else store count + 1
;;   where it was loaded from (`JumpIfLoadI32EqElseAddStore`), at offset 0 and beyond;
;; - `Py_DECREF`: load the count, skip if immortal, else store count - 1 back and skip
;;   unless it reached zero, both skips to the same place
;;   (`JumpIfLoadI32EqElseAddStoreJumpIfNez`);
;; - look-alikes that must not be merged (another address, another target, the sum in
;;   the address local) or that trap (an address out of bounds).
(module
  (memory 1)
  (global $freed (mut i32) (i32.const 0))

  (func $dealloc (param $op i32)
    (global.set $freed (i32.add (global.get $freed) (i32.const 1))))

  (func (export "incref") (param $op i32)
    (local $rc i32)
    (block $done
      (br_if $done (i32.eq (local.tee $rc (i32.load (local.get $op))) (i32.const 0x3fffffff)))
      (i32.store (local.get $op) (i32.add (local.get $rc) (i32.const 1)))))

  ;; The count at offset 8 of the object (a field, not the header).
  (func (export "incref8") (param $op i32)
    (local $rc i32)
    (block $done
      (br_if $done (i32.eq (local.tee $rc (i32.load offset=8 (local.get $op))) (i32.const -1)))
      (i32.store offset=8 (local.get $op) (i32.add (local.get $rc) (i32.const 1)))))

  ;; Returns the count after: 0 if the object was freed.
  (func (export "decref") (param $op i32) (result i32)
    (local $rc i32)
    (block $done
      (br_if $done (i32.eq (local.tee $rc (i32.load (local.get $op))) (i32.const 0x3fffffff)))
      (i32.store (local.get $op) (local.tee $rc (i32.add (local.get $rc) (i32.const -1))))
      (br_if $done (local.get $rc))
      (call $dealloc (local.get $op)))
    (i32.load (local.get $op)))

  ;; The same with the decremented count in a local of its own.
  (func (export "decref2") (param $op i32) (result i32)
    (local $rc i32) (local $new i32)
    (block $done
      (br_if $done (i32.eq (local.tee $rc (i32.load (local.get $op))) (i32.const 0x3fffffff)))
      (i32.store (local.get $op) (local.tee $new (i32.add (local.get $rc) (i32.const -1))))
      (br_if $done (local.get $new))
      (call $dealloc (local.get $op)))
    (local.get $rc))

  ;; The immortality test and the zero test jump to different places: not one
  ;; instruction. Returns 100 if immortal, 200 if still referenced, 300 if freed.
  (func (export "decref-two-exits") (param $op i32) (result i32)
    (local $rc i32)
    (block $alive
      (block $immortal
        (br_if $immortal (i32.eq (local.tee $rc (i32.load (local.get $op))) (i32.const 0x3fffffff)))
        (i32.store (local.get $op) (local.tee $rc (i32.add (local.get $rc) (i32.const -1))))
        (br_if $alive (local.get $rc))
        (call $dealloc (local.get $op))
        (return (i32.const 300)))
      (return (i32.const 100)))
    (i32.const 200))

  ;; The count stored somewhere else than where it was loaded from: not merged.
  (func (export "incref-elsewhere") (param $op i32) (param $to i32)
    (local $rc i32)
    (block $done
      (br_if $done (i32.eq (local.tee $rc (i32.load (local.get $op))) (i32.const 0x3fffffff)))
      (i32.store (local.get $to) (i32.add (local.get $rc) (i32.const 1)))))

  ;; The decremented count overwrites the address local, then is stored at the address
  ;; it names (the store's address is read after the sum is written).
  (func (export "decref-into-address") (param $op i32) (result i32)
    (local $rc i32)
    (block $done
      (br_if $done (i32.eq (local.tee $rc (i32.load (local.get $op))) (i32.const 0x3fffffff)))
      (local.set $op (i32.add (local.get $rc) (i32.const -1)))
      (i32.store (local.get $op) (local.get $op))
      (br_if $done (local.get $op))
      (return (i32.const -1)))
    (local.get $op))

  ;; In a loop: the skip is a backward jump (to the loop's head), so it consumes fuel.
  (func (export "decref-loop") (param $op i32) (param $n i32) (result i32)
    (local $rc i32)
    (loop $again
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $again (i32.eq (local.tee $rc (i32.load (local.get $op))) (local.get $n)))
      (i32.store (local.get $op) (local.tee $rc (i32.add (local.get $rc) (i32.const -1))))
      (br_if $again (local.get $rc)))
    (local.get $n))

  (func (export "set") (param $at i32) (param $v i32) (i32.store (local.get $at) (local.get $v)))
  (func (export "get") (param $at i32) (result i32) (i32.load (local.get $at)))
  (func (export "freed") (result i32) (global.get $freed)))

;; Py_INCREF: counts up, immortal stays.
(invoke "set" (i32.const 64) (i32.const 5))
(invoke "incref" (i32.const 64))
(assert_return (invoke "get" (i32.const 64)) (i32.const 6))
(invoke "set" (i32.const 64) (i32.const 0x3fffffff))
(invoke "incref" (i32.const 64))
(assert_return (invoke "get" (i32.const 64)) (i32.const 0x3fffffff))
(invoke "set" (i32.const 64) (i32.const -2))
(invoke "incref" (i32.const 64))
(assert_return (invoke "get" (i32.const 64)) (i32.const -1))
(invoke "set" (i32.const 72) (i32.const 9))
(invoke "incref8" (i32.const 64))
(assert_return (invoke "get" (i32.const 72)) (i32.const 10))
(invoke "set" (i32.const 72) (i32.const -1))
(invoke "incref8" (i32.const 64))
(assert_return (invoke "get" (i32.const 72)) (i32.const -1))
(assert_trap (invoke "incref" (i32.const 65534)) "out of bounds memory access")
(assert_trap (invoke "incref8" (i32.const 65528)) "out of bounds memory access")

;; Py_DECREF: counts down, frees at zero, immortal stays.
(invoke "set" (i32.const 128) (i32.const 2))
(assert_return (invoke "decref" (i32.const 128)) (i32.const 1))
(assert_return (invoke "freed") (i32.const 0))
(assert_return (invoke "decref" (i32.const 128)) (i32.const 0))
(assert_return (invoke "freed") (i32.const 1))
(invoke "set" (i32.const 128) (i32.const 0x3fffffff))
(assert_return (invoke "decref" (i32.const 128)) (i32.const 0x3fffffff))
(assert_return (invoke "freed") (i32.const 1))
(invoke "set" (i32.const 128) (i32.const 0))
(assert_return (invoke "decref" (i32.const 128)) (i32.const -1))
(assert_return (invoke "freed") (i32.const 1))
(invoke "set" (i32.const 128) (i32.const 1))
(assert_return (invoke "decref2" (i32.const 128)) (i32.const 1))
(assert_return (invoke "get" (i32.const 128)) (i32.const 0))
(assert_return (invoke "freed") (i32.const 2))
(invoke "set" (i32.const 128) (i32.const 7))
(assert_return (invoke "decref2" (i32.const 128)) (i32.const 7))
(assert_return (invoke "get" (i32.const 128)) (i32.const 6))
(assert_return (invoke "freed") (i32.const 2))
(assert_trap (invoke "decref" (i32.const 65533)) "out of bounds memory access")
(assert_trap (invoke "decref" (i32.const -1)) "out of bounds memory access")

;; Different exits.
(invoke "set" (i32.const 256) (i32.const 0x3fffffff))
(assert_return (invoke "decref-two-exits" (i32.const 256)) (i32.const 100))
(invoke "set" (i32.const 256) (i32.const 3))
(assert_return (invoke "decref-two-exits" (i32.const 256)) (i32.const 200))
(assert_return (invoke "get" (i32.const 256)) (i32.const 2))
(invoke "set" (i32.const 256) (i32.const 1))
(assert_return (invoke "decref-two-exits" (i32.const 256)) (i32.const 300))
(assert_return (invoke "freed") (i32.const 3))

;; Another address.
(invoke "set" (i32.const 320) (i32.const 41))
(invoke "set" (i32.const 324) (i32.const 0))
(invoke "incref-elsewhere" (i32.const 320) (i32.const 324))
(assert_return (invoke "get" (i32.const 320)) (i32.const 41))
(assert_return (invoke "get" (i32.const 324)) (i32.const 42))

;; The sum in the address local: stored at the address it names.
(invoke "set" (i32.const 400) (i32.const 501))
(invoke "set" (i32.const 500) (i32.const 0))
(assert_return (invoke "decref-into-address" (i32.const 400)) (i32.const 500))
(assert_return (invoke "get" (i32.const 400)) (i32.const 501))
(assert_return (invoke "get" (i32.const 500)) (i32.const 500))
(invoke "set" (i32.const 400) (i32.const 1))
(invoke "set" (i32.const 0) (i32.const 77))
(assert_return (invoke "decref-into-address" (i32.const 400)) (i32.const -1))
(assert_return (invoke "get" (i32.const 400)) (i32.const 1))
(assert_return (invoke "get" (i32.const 0)) (i32.const 0))

;; Backward skips: the immortality test against the loop counter jumps back to the
;; loop's head; the count goes down until it is zero.
(invoke "set" (i32.const 600) (i32.const 5))
(assert_return (invoke "decref-loop" (i32.const 600) (i32.const 6)) (i32.const 0))
(assert_return (invoke "get" (i32.const 600)) (i32.const 0))
(invoke "set" (i32.const 600) (i32.const 3))
(assert_return (invoke "decref-loop" (i32.const 600) (i32.const 100)) (i32.const 97))
(assert_return (invoke "get" (i32.const 600)) (i32.const 0))
