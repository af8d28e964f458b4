;; An `i32.and`, `i32.add`, `i32.load8_u` or indexed `i32.load8_u` whose result is kept in
;; a local, then a branch on zero / non-zero: one instruction each after `fuse_pairs`
;; (crates/core/src/translate.rs: `I32AndThenJumpIfEqz`, `I32AndThenJumpIfNez`,
;; `I32AddThenJumpIfNez`, `I32Load8UThenJumpIfEqz`, `I32Load8UThenJumpIfNez`,
;; `I32Load8UAddThenJumpIfEqz`). They must behave as the two instructions: the value
;; written first, then the branch on the value of its condition's slot, which is the
;; value just written or another one; forwards and backwards; traps before the branch.
(module
  (memory 1)

  ;; (x & m) kept; 1 if zero, else 2 + the kept value.
  (func (export "and-eqz") (param $x i32) (param $m i32) (result i32)
    (local $v i32)
    (block $zero
      (local.set $v (i32.and (local.get $x) (local.get $m)))
      (br_if $zero (i32.eqz (local.get $v)))
      (return (i32.add (i32.const 2) (local.get $v))))
    (i32.const 1))

  (func (export "and-nez") (param $x i32) (param $m i32) (result i32)
    (local $v i32)
    (block $set
      (local.set $v (i32.and (local.get $x) (local.get $m)))
      (br_if $set (local.get $v))
      (return (i32.const 1)))
    (i32.add (i32.const 2) (local.get $v)))

  ;; The branch tests another local than the one the `and` wrote.
  (func (export "and-other") (param $x i32) (param $c i32) (result i32)
    (local $v i32)
    (block $set
      (local.set $v (i32.and (local.get $x) (i32.const 0xff)))
      (br_if $set (local.get $c))
      (return (i32.sub (i32.const 0) (local.get $v))))
    (local.get $v))

  ;; Counts down by adding -1 until zero, the branch backwards; returns the steps.
  (func (export "add-nez-loop") (param $n i32) (result i32)
    (local $steps i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (loop $again
      (local.set $steps (i32.sub (local.get $steps) (i32.const -1)))
      (local.set $n (i32.add (local.get $n) (i32.const -1)))
      (br_if $again (local.get $n)))
    (local.get $steps))

  ;; strlen: bytes until the NUL, `i32.load8_u` kept then tested.
  (func (export "strlen") (param $s i32) (result i32)
    (local $p i32) (local $c i32)
    (local.set $p (local.get $s))
    (block $end
      (loop $next
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $end (i32.eqz (local.get $c)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $p) (local.get $s)))

  ;; The byte at s + 3 kept; 1 if non-zero, else 2.
  (func (export "byte-nez") (param $s i32) (result i32)
    (local $c i32)
    (block $set
      (local.set $c (i32.load8_u offset=3 (local.get $s)))
      (br_if $set (local.get $c))
      (return (i32.const 2)))
    (i32.const 1))

  ;; The byte at base + i + 1 kept; -1 if zero, else the byte.
  (func (export "indexed-byte") (param $base i32) (param $i i32) (result i32)
    (local $c i32)
    (block $zero
      (local.set $c (i32.load8_u offset=1 (i32.add (local.get $base) (local.get $i))))
      (br_if $zero (i32.eqz (local.get $c)))
      (return (local.get $c)))
    (i32.const -1))

  ;; A flag byte at base + i + 2 kept, tested against a mask: 1 if any bit is set, else
  ;; 2; the byte on the left of the `and`, then on the right.
  (func (export "flags-nez") (param $base i32) (param $i i32) (param $m i32) (result i32)
    (local $f i32)
    (block $set
      (local.set $f (i32.load8_u offset=2 (i32.add (local.get $base) (local.get $i))))
      (br_if $set (i32.and (local.get $f) (local.get $m)))
      (return (i32.add (i32.const 2) (i32.mul (local.get $f) (i32.const 0)))))
    (i32.const 1))
  (func (export "flags-eqz") (param $base i32) (param $i i32) (param $m i32) (result i32)
    (local $f i32)
    (block $clear
      (local.set $f (i32.load8_u offset=2 (i32.add (local.get $base) (local.get $i))))
      (br_if $clear (i32.eqz (i32.and (local.get $m) (local.get $f))))
      (return (i32.add (i32.const 1) (i32.mul (local.get $f) (i32.const 0)))))
    (i32.const 2))
  ;; A block's result computed at its end, then a jump out of it (`br`): the sum reaches
  ;; the code after the block.
  (func (export "add-then-br") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $r i32)
    (block $out
      (if (local.get $c)
        (then
          (local.set $r (i32.add (local.get $a) (local.get $b)))
          (br $out)))
      (local.set $r (i32.sub (local.get $a) (local.get $b))))
    (i32.mul (local.get $r) (i32.const 10)))

  (func (export "store8") (param $at i32) (param $v i32) (i32.store8 (local.get $at) (local.get $v))))

(assert_return (invoke "and-eqz" (i32.const 0xf0) (i32.const 0x0f)) (i32.const 1))
(assert_return (invoke "and-eqz" (i32.const 0xf0) (i32.const 0x30)) (i32.const 0x32))
(assert_return (invoke "and-eqz" (i32.const -1) (i32.const 0x80000000)) (i32.const 0x80000002))
(assert_return (invoke "and-nez" (i32.const 0xf0) (i32.const 0x0f)) (i32.const 1))
(assert_return (invoke "and-nez" (i32.const 0xf0) (i32.const 0x30)) (i32.const 0x32))
(assert_return (invoke "and-other" (i32.const 0x1234) (i32.const 0)) (i32.const -0x34))
(assert_return (invoke "and-other" (i32.const 0x1234) (i32.const 7)) (i32.const 0x34))
(assert_return (invoke "add-nez-loop" (i32.const 5)) (i32.const 5))
(assert_return (invoke "add-nez-loop" (i32.const 1)) (i32.const 1))
(assert_return (invoke "add-nez-loop" (i32.const 0)) (i32.const 0))

;; "hello" at 100, NUL at 105.
(invoke "store8" (i32.const 100) (i32.const 0x68))
(invoke "store8" (i32.const 101) (i32.const 0x65))
(invoke "store8" (i32.const 102) (i32.const 0x6c))
(invoke "store8" (i32.const 103) (i32.const 0x6c))
(invoke "store8" (i32.const 104) (i32.const 0x6f))
(assert_return (invoke "strlen" (i32.const 100)) (i32.const 5))
(assert_return (invoke "strlen" (i32.const 103)) (i32.const 2))
(assert_return (invoke "strlen" (i32.const 105)) (i32.const 0))
;; A string running to the end of memory traps.
(invoke "store8" (i32.const 65534) (i32.const 1))
(invoke "store8" (i32.const 65535) (i32.const 1))
(assert_trap (invoke "strlen" (i32.const 65534)) "out of bounds memory access")

(assert_return (invoke "byte-nez" (i32.const 100)) (i32.const 1))
(assert_return (invoke "byte-nez" (i32.const 102)) (i32.const 2))
(assert_trap (invoke "byte-nez" (i32.const 65533)) "out of bounds memory access")

(assert_return (invoke "indexed-byte" (i32.const 90) (i32.const 10)) (i32.const 0x65))
(assert_return (invoke "indexed-byte" (i32.const 100) (i32.const 4)) (i32.const -1))
(assert_return (invoke "indexed-byte" (i32.const 200) (i32.const -1)) (i32.const -1))
(assert_trap (invoke "indexed-byte" (i32.const 65535) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "indexed-byte" (i32.const -1) (i32.const 0)) "out of bounds memory access")
;; Flags: byte 0x12 at 302 ("flags" of base 290, i 10).
(invoke "store8" (i32.const 302) (i32.const 0x12))
(assert_return (invoke "flags-nez" (i32.const 290) (i32.const 10) (i32.const 0x10)) (i32.const 1))
(assert_return (invoke "flags-nez" (i32.const 290) (i32.const 10) (i32.const 0x0d)) (i32.const 2))
(assert_return (invoke "flags-nez" (i32.const 290) (i32.const 10) (i32.const 0x100)) (i32.const 2))
(assert_return (invoke "flags-eqz" (i32.const 290) (i32.const 10) (i32.const 0x02)) (i32.const 1))
(assert_return (invoke "flags-eqz" (i32.const 290) (i32.const 10) (i32.const 0xe1)) (i32.const 2))
(assert_trap (invoke "flags-nez" (i32.const 65534) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "flags-eqz" (i32.const 0) (i32.const -2) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "add-then-br" (i32.const 7) (i32.const 5) (i32.const 1)) (i32.const 120))
(assert_return (invoke "add-then-br" (i32.const 7) (i32.const 5) (i32.const 0)) (i32.const 20))
(assert_return (invoke "add-then-br" (i32.const -1) (i32.const 1) (i32.const 1)) (i32.const 0))
