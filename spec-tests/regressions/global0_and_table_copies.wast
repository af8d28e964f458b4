;; Instructions the translator makes for C compiled to wasm (crates/core/src/translate.rs,
;; `fuse_pairs`), which must behave as the instructions they replace:
;; - accesses of global 0 (the shadow stack pointer) through the address the interpreter
;;   keeps at hand (`Global0Get`, `Global0Set`), next to a global that is not global 0;
;; - the prologue `global.get 0; i32.sub; global.set 0` in one instruction
;;   (`Global0SubSet`), with and without `local.tee`, in nested frames;
;; - the epilogue `i32.add; global.set 0` (`I32AddThenGlobal0Set`);
;; - one or two copies before a jump back to a masked jump table, CPython's eval-loop
;;   dispatch (`CopyThenJumpToTableAnd`, `Copy2ThenJumpToTableAnd`), where the second copy
;;   overwrites what the first one read.
(module
  (global $sp (mut i32) (i32.const 1024))
  (global $other (mut i32) (i32.const 5))
  (memory 1)

  (func (export "frame") (param $n i32) (result i32) (local $fp i32) (local $r i32)
    (global.set $sp (local.tee $fp (i32.sub (global.get $sp) (local.get $n))))
    (i32.store (local.get $fp) (i32.const 42))
    (local.set $r (i32.add (i32.load (local.get $fp)) (local.get $fp)))
    (global.set $sp (i32.add (local.get $fp) (local.get $n)))
    (local.get $r))

  (func $rec (export "rec") (param $d i32) (result i32) (local $fp i32)
    (global.set $sp (local.tee $fp (i32.sub (global.get $sp) (i32.const 32))))
    (i32.store (local.get $fp) (local.get $d))
    (if (local.get $d) (then (drop (call $rec (i32.sub (local.get $d) (i32.const 1))))))
    (local.set $d (i32.add (i32.load (local.get $fp)) (local.get $fp)))
    (global.set $sp (i32.add (local.get $fp) (i32.const 32)))
    (i32.sub (local.get $d) (global.get $sp)))

  (func (export "sp") (result i32) (global.get $sp))
  (func (export "other") (result i32) (global.get $other))
  (func (export "set-both") (param i32)
    (global.set $other (i32.add (global.get $other) (local.get 0)))
    (global.set $sp (local.get 0)))
  (func (export "bump") (result i32)
    (global.set $sp (i32.sub (global.get $sp) (i32.const 16)))
    (global.get $sp))

  (func (export "dispatch") (param $n i32) (result i32)
    (local $pc i32) (local $next i32) (local $acc i32) (local $x i32)
    (local.set $pc (local.get $n))
    (loop $d
      (block $stop (block $b (block $a
        (br_table $a $b $stop (i32.and (local.get $pc) (i32.const 3))))
        ;; case 0
        (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
        (local.set $next (i32.add (local.get $pc) (i32.const 1)))
        (local.set $pc (local.get $next))
        (br $d))
        ;; case 1
        (local.set $acc (i32.mul (local.get $acc) (i32.const 2)))
        (local.set $next (i32.add (local.get $pc) (i32.const 3)))
        (br_if $stop (i32.gt_u (local.get $acc) (i32.const 1000)))
        (local.set $x (local.get $pc))
        (local.set $pc (local.get $next))
        (br $d)))
    (i32.add (local.get $acc) (i32.mul (local.get $x) (i32.const 1000))))
)

(assert_return (invoke "frame" (i32.const 16)) (i32.const 1050))
(assert_return (invoke "sp") (i32.const 1024))
(assert_return (invoke "frame" (i32.const 0)) (i32.const 1066))
;; 3 + the frame's address (1024 - 32), less the restored pointer (1024).
(assert_return (invoke "rec" (i32.const 3)) (i32.const -29))
(assert_return (invoke "sp") (i32.const 1024))
(assert_return (invoke "other") (i32.const 5))
(invoke "set-both" (i32.const 2048))
(assert_return (invoke "other") (i32.const 2053))
(assert_return (invoke "sp") (i32.const 2048))
(assert_return (invoke "frame" (i32.const 8)) (i32.const 2082))
(assert_return (invoke "bump") (i32.const 2032))
(assert_return (invoke "bump") (i32.const 2016))
(assert_return (invoke "sp") (i32.const 2016))
(assert_return (invoke "dispatch" (i32.const 0)) (i32.const 30022))
(assert_return (invoke "dispatch" (i32.const 1)) (i32.const 34022))
(assert_return (invoke "dispatch" (i32.const 2)) (i32.const 0))
(assert_return (invoke "dispatch" (i32.const 5)) (i32.const 38022))

;; CPython's instruction fetch and dispatch in one instruction
;; (`I32Load16UShrUThenJumpToTableAnd`): a code unit `opcode | arg << 8` loaded, its
;; argument shifted out, a jump back to the table on `unit & 255`; a load out of bounds
;; there traps.
(module
  (memory 1)
  ;; add 5, add 3, mul 4, add 1, halt
  (data (i32.const 0) "\00\05\00\03\01\04\00\01\02\00")
  (func (export "vm") (param $pc i32) (result i32) (local $word i32) (local $arg i32) (local $acc i32)
    (local.set $word (i32.load16_u (local.get $pc)))
    (local.set $arg (i32.shr_u (local.get $word) (i32.const 8)))
    (loop $d
      (block $halt (block $mul (block $add
        (br_table $add $mul $halt (i32.and (local.get $word) (i32.const 255))))
        (local.set $acc (i32.add (local.get $acc) (local.get $arg)))
        (local.set $pc (i32.add (local.get $pc) (i32.const 2)))
        (local.set $word (i32.load16_u (local.get $pc)))
        (local.set $arg (i32.shr_u (local.get $word) (i32.const 8)))
        (br $d))
        (local.set $acc (i32.mul (local.get $acc) (local.get $arg)))
        (local.set $pc (i32.add (local.get $pc) (i32.const 2)))
        (local.set $word (i32.load16_u offset=1 (i32.sub (local.get $pc) (i32.const 1))))
        (local.set $arg (i32.shr_u (local.get $word) (i32.const 8)))
        (br $d)))
    (local.get $acc)))

(assert_return (invoke "vm" (i32.const 0)) (i32.const 33))
(assert_return (invoke "vm" (i32.const 2)) (i32.const 13))
(assert_return (invoke "vm" (i32.const 4)) (i32.const 1))
(assert_return (invoke "vm" (i32.const 8)) (i32.const 0))
(assert_trap (invoke "vm" (i32.const 65534)) "out of bounds memory access")
