;; Adjacent loads and address arithmetic the translator merges into one instruction
;; (crates/core/src/translate.rs, `fused_pair`), which must behave as the two they
;; replace, in order:
;; - `I32LoadThenLoadAdd`, `I32LoadAddThenLoad`: two loads, the second's address
;;   computed after the first's value is written (pointer chasing through the same local);
;; - `I32AddShlThenLoadAdd`: an indexed address, then a load from it plus another operand
;;   (on either side of the add);
;; - `JumpIfLoadAddI32Ne`: a load from a sum, then a branch unless it equals another value
;;   (on either side of the comparison), forwards and backwards;
;; - traps in the first and in the second half; look-alikes that are not merged.
(module
  (memory 1)

  (func (export "load-then-loadadd") (param $p i32) (param $a i32) (param $b i32) (result i32)
    (local $x i32) (local $y i32)
    (local.set $x (i32.load offset=4 (local.get $p)))
    (local.set $y (i32.load offset=8 (i32.add (local.get $a) (local.get $b))))
    (i32.add (i32.mul (local.get $x) (i32.const 1000)) (local.get $y)))

  ;; The second address is the first value plus `b`.
  (func (export "chase-loadadd") (param $p i32) (param $b i32) (result i32)
    (local $x i32) (local $y i32)
    (local.set $x (i32.load (local.get $p)))
    (local.set $y (i32.load offset=4 (i32.add (local.get $x) (local.get $b))))
    (i32.add (i32.mul (local.get $x) (i32.const 1000)) (local.get $y)))

  (func (export "loadadd-then-load") (param $a i32) (param $b i32) (param $p i32) (result i32)
    (local $x i32) (local $y i32)
    (local.set $x (i32.load offset=8 (i32.add (local.get $a) (local.get $b))))
    (local.set $y (i32.load offset=4 (local.get $p)))
    (i32.add (i32.mul (local.get $x) (i32.const 1000)) (local.get $y)))

  ;; The second address is the first value.
  (func (export "chase-load") (param $a i32) (param $b i32) (result i32)
    (local $x i32) (local $y i32)
    (local.set $x (i32.load (i32.add (local.get $a) (local.get $b))))
    (local.set $y (i32.load offset=4 (local.get $x)))
    (i32.add (i32.mul (local.get $x) (i32.const 1000)) (local.get $y)))

  ;; `base + (idx << 2)`, then a load from it plus `o` (on the right, then on the left).
  (func (export "index-right") (param $base i32) (param $idx i32) (param $o i32) (result i32)
    (local $at i32) (local $v i32)
    (local.set $at (i32.add (local.get $base) (i32.shl (local.get $idx) (i32.const 2))))
    (local.set $v (i32.load offset=12 (i32.add (local.get $at) (local.get $o))))
    (i32.add (i32.mul (local.get $at) (i32.const 1000)) (local.get $v)))
  (func (export "index-left") (param $base i32) (param $idx i32) (param $o i32) (result i32)
    (local $at i32) (local $v i32)
    (local.set $at (i32.add (local.get $base) (i32.shl (local.get $idx) (i32.const 2))))
    (local.set $v (i32.load offset=12 (i32.add (local.get $o) (local.get $at))))
    (i32.add (i32.mul (local.get $at) (i32.const 1000)) (local.get $v)))
  ;; The load does not use the indexed address: not merged.
  (func (export "index-unrelated") (param $base i32) (param $idx i32) (param $o i32) (result i32)
    (local $at i32) (local $v i32)
    (local.set $at (i32.add (local.get $base) (i32.shl (local.get $idx) (i32.const 2))))
    (local.set $v (i32.load offset=12 (i32.add (local.get $o) (local.get $idx))))
    (i32.add (i32.mul (local.get $at) (i32.const 1000)) (local.get $v)))
  ;; The shift's count is taken modulo 32.
  (func (export "index-shift") (param $base i32) (param $idx i32) (param $s i32) (result i32)
    (local $at i32) (local $v i32)
    (local.set $at (i32.add (local.get $base) (i32.shl (local.get $idx) (local.get $s))))
    (local.set $v (i32.load (i32.add (local.get $at) (local.get $base))))
    (local.get $v))

  ;; 1 if `mem[a + b + 4] != c` (the loaded value on the left), else 2.
  (func (export "ne-left") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $v i32)
    (block $differ
      (br_if $differ (i32.ne (local.tee $v (i32.load offset=4 (i32.add (local.get $a) (local.get $b))))
                             (local.get $c)))
      (return (i32.add (i32.const 2) (i32.mul (local.get $v) (i32.const 0)))))
    (i32.const 1))
  (func (export "ne-right") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $v i32)
    (block $differ
      (br_if $differ (i32.ne (local.get $c)
                             (local.tee $v (i32.load offset=4 (i32.add (local.get $a) (local.get $b))))))
      (return (i32.const 2)))
    (i32.const 1))
  ;; Walks a linked list (next pointer at +0, value at +4) until a value equals `c`:
  ;; the branch is backward. Returns the address of the node, or 0 at the end.
  (func (export "find") (param $node i32) (param $c i32) (result i32)
    (local $zero i32) (local $steps i32)
    (loop $next
      (if (i32.eqz (local.get $node)) (then (return (i32.const 0))))
      (local.set $node (i32.load (local.get $node)))
      (local.set $steps (i32.add (local.get $steps) (i32.const 1)))
      (br_if $next (i32.ne (i32.load offset=4 (i32.add (local.get $node) (local.get $zero)))
                           (local.get $c))))
    (local.get $node))

  (func (export "set") (param $at i32) (param $v i32) (i32.store (local.get $at) (local.get $v))))

(invoke "set" (i32.const 104) (i32.const 7))
(invoke "set" (i32.const 208) (i32.const 9))
(assert_return (invoke "load-then-loadadd" (i32.const 100) (i32.const 150) (i32.const 50)) (i32.const 7009))
(assert_trap (invoke "load-then-loadadd" (i32.const 65532) (i32.const 150) (i32.const 50)) "out of bounds memory access")
(assert_trap (invoke "load-then-loadadd" (i32.const 100) (i32.const 65528) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "load-then-loadadd" (i32.const 100) (i32.const 0) (i32.const -8)) "out of bounds memory access")

(invoke "set" (i32.const 300) (i32.const 400))
(invoke "set" (i32.const 414) (i32.const 5))
(assert_return (invoke "chase-loadadd" (i32.const 300) (i32.const 10)) (i32.const 400005))

(assert_return (invoke "loadadd-then-load" (i32.const 150) (i32.const 50) (i32.const 100)) (i32.const 9007))
(assert_trap (invoke "loadadd-then-load" (i32.const 65528) (i32.const 0) (i32.const 100)) "out of bounds memory access")
(assert_trap (invoke "loadadd-then-load" (i32.const 150) (i32.const 50) (i32.const 65532)) "out of bounds memory access")

(invoke "set" (i32.const 500) (i32.const 600))
(invoke "set" (i32.const 604) (i32.const 3))
(assert_return (invoke "chase-load" (i32.const 450) (i32.const 50)) (i32.const 600003))
(invoke "set" (i32.const 500) (i32.const 65534))
(assert_trap (invoke "chase-load" (i32.const 450) (i32.const 50)) "out of bounds memory access")

;; base 1000, idx 5: at = 1020; load at 1020 + o + 12.
(invoke "set" (i32.const 1040) (i32.const 77))
(assert_return (invoke "index-right" (i32.const 1000) (i32.const 5) (i32.const 8)) (i32.const 1020077))
(assert_return (invoke "index-left" (i32.const 1000) (i32.const 5) (i32.const 8)) (i32.const 1020077))
(invoke "set" (i32.const 25) (i32.const 66))
(assert_return (invoke "index-unrelated" (i32.const 1000) (i32.const 5) (i32.const 8)) (i32.const 1020066))
(assert_trap (invoke "index-right" (i32.const 65000) (i32.const 200) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "index-left" (i32.const 0) (i32.const 0) (i32.const -12)) "out of bounds memory access")
;; shift 34 = 2: at = 100 + 12 = 112, load at 112 + 100.
(invoke "set" (i32.const 212) (i32.const 55))
(assert_return (invoke "index-shift" (i32.const 100) (i32.const 3) (i32.const 34)) (i32.const 55))

(invoke "set" (i32.const 2004) (i32.const 31))
(assert_return (invoke "ne-left" (i32.const 1000) (i32.const 1000) (i32.const 31)) (i32.const 2))
(assert_return (invoke "ne-left" (i32.const 1000) (i32.const 1000) (i32.const 30)) (i32.const 1))
(assert_return (invoke "ne-right" (i32.const 1500) (i32.const 500) (i32.const 31)) (i32.const 2))
(assert_return (invoke "ne-right" (i32.const 1500) (i32.const 500) (i32.const -31)) (i32.const 1))
(assert_trap (invoke "ne-left" (i32.const 65532) (i32.const 0) (i32.const 0)) "out of bounds memory access")

;; A list 3000 -> 3100 -> 3200 -> 0 with values 10, 20, 30 (the walk starts at 3000's
;; successor).
(invoke "set" (i32.const 3000) (i32.const 3100))
(invoke "set" (i32.const 3004) (i32.const 10))
(invoke "set" (i32.const 3100) (i32.const 3200))
(invoke "set" (i32.const 3104) (i32.const 20))
(invoke "set" (i32.const 3200) (i32.const 0))
(invoke "set" (i32.const 3204) (i32.const 30))
(assert_return (invoke "find" (i32.const 3000) (i32.const 20)) (i32.const 3100))
(assert_return (invoke "find" (i32.const 3000) (i32.const 30)) (i32.const 3200))
(assert_return (invoke "find" (i32.const 3000) (i32.const 99)) (i32.const 0))
