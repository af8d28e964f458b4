;; Adjacent 32-bit loads and stores the translator merges into one instruction
;; (crates/core/src/translate.rs, `fused_pair`: `I32LoadThenStore`, `I32StoreThenLoad`,
;; `I32StoreThenStore`, `I32LoadThenAddStore`), which must behave as the two they replace,
;; in order: the store of a just-loaded value, to an address just loaded; a load that sees
;; the store before it; overlapping stores; a trap in the second half after the first has
;; written memory.
(module
  (memory 1)

  ;; x = mem[p + 4]; mem[q + 8] = v. Returns x.
  (func (export "load-then-store") (param $p i32) (param $q i32) (param $v i32) (result i32)
    (local $x i32)
    (local.set $x (i32.load offset=4 (local.get $p)))
    (i32.store offset=8 (local.get $q) (local.get $v))
    (local.get $x))

  ;; Copies a field: mem[q + 8] = mem[p + 4].
  (func (export "copy-field") (param $p i32) (param $q i32)
    (local $x i32)
    (local.set $x (i32.load offset=4 (local.get $p)))
    (i32.store offset=8 (local.get $q) (local.get $x)))

  ;; Stores through the pointer just loaded: mem[mem[p]] = v.
  (func (export "store-through") (param $p i32) (param $v i32)
    (local $x i32)
    (local.set $x (i32.load (local.get $p)))
    (i32.store (local.get $x) (local.get $v)))

  ;; mem[p + 4] = v; then reads mem[q + 2]: sees the store where they overlap.
  (func (export "store-then-load") (param $p i32) (param $v i32) (param $q i32) (result i32)
    (local $x i32)
    (i32.store offset=4 (local.get $p) (local.get $v))
    (local.set $x (i32.load offset=2 (local.get $q)))
    (local.get $x))

  ;; mem[p] = a; mem[q + 2] = b.
  (func (export "store-then-store") (param $p i32) (param $a i32) (param $q i32) (param $b i32)
    (i32.store (local.get $p) (local.get $a))
    (i32.store offset=2 (local.get $q) (local.get $b)))

  ;; x = mem[p]; mem[q + 4] = x + k. Returns x.
  (func (export "load-then-addstore") (param $p i32) (param $q i32) (param $k i32) (result i32)
    (local $x i32)
    (local.set $x (i32.load (local.get $p)))
    (i32.store offset=4 (local.get $q) (i32.add (local.get $x) (local.get $k)))
    (local.get $x))

  (func (export "set") (param $at i32) (param $v i32) (i32.store (local.get $at) (local.get $v)))
  (func (export "get") (param $at i32) (result i32) (i32.load (local.get $at))))

(invoke "set" (i32.const 104) (i32.const 11))
(assert_return (invoke "load-then-store" (i32.const 100) (i32.const 200) (i32.const 22)) (i32.const 11))
(assert_return (invoke "get" (i32.const 208)) (i32.const 22))
;; The store writes where the load read.
(assert_return (invoke "load-then-store" (i32.const 100) (i32.const 96) (i32.const 33)) (i32.const 11))
(assert_return (invoke "get" (i32.const 104)) (i32.const 33))
(assert_trap (invoke "load-then-store" (i32.const 65532) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "load-then-store" (i32.const 100) (i32.const 65530) (i32.const 44)) "out of bounds memory access")

(invoke "set" (i32.const 304) (i32.const 55))
(invoke "copy-field" (i32.const 300) (i32.const 400))
(assert_return (invoke "get" (i32.const 408)) (i32.const 55))

(invoke "set" (i32.const 500) (i32.const 600))
(invoke "store-through" (i32.const 500) (i32.const 66))
(assert_return (invoke "get" (i32.const 600)) (i32.const 66))
(assert_return (invoke "get" (i32.const 500)) (i32.const 600))
(invoke "set" (i32.const 500) (i32.const 65534))
(assert_trap (invoke "store-through" (i32.const 500) (i32.const 1)) "out of bounds memory access")

;; mem[704..708] = 0x44332211, then the load at 702 reads bytes 702..706: 0x2211 high.
(invoke "set" (i32.const 700) (i32.const 0))
(assert_return (invoke "store-then-load" (i32.const 700) (i32.const 0x44332211) (i32.const 700)) (i32.const 0x22110000))
(assert_return (invoke "store-then-load" (i32.const 700) (i32.const 7) (i32.const 702)) (i32.const 7))
(assert_trap (invoke "store-then-load" (i32.const 65532) (i32.const 7) (i32.const 0)) "out of bounds memory access")
;; The store happened before the load trapped.
(assert_trap (invoke "store-then-load" (i32.const 800) (i32.const 99) (i32.const 65534)) "out of bounds memory access")
(assert_return (invoke "get" (i32.const 804)) (i32.const 99))

;; Overlapping: mem[900] = 0xaabbccdd, then mem[902] = 0x11223344 over its high half.
(invoke "store-then-store" (i32.const 900) (i32.const 0xaabbccdd) (i32.const 900) (i32.const 0x11223344))
(assert_return (invoke "get" (i32.const 900)) (i32.const 0x3344ccdd))
(assert_return (invoke "get" (i32.const 904)) (i32.const 0x1122))
(invoke "store-then-store" (i32.const 1000) (i32.const 1) (i32.const 1000) (i32.const 2))
(assert_return (invoke "get" (i32.const 1000)) (i32.const 0x20001))
(assert_return (invoke "get" (i32.const 1002)) (i32.const 2))
;; The first store stays when the second traps.
(assert_trap (invoke "store-then-store" (i32.const 1100) (i32.const 77) (i32.const 65533) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "get" (i32.const 1100)) (i32.const 77))
(assert_trap (invoke "store-then-store" (i32.const -1) (i32.const 77) (i32.const 0) (i32.const 1)) "out of bounds memory access")

(invoke "set" (i32.const 1200) (i32.const 40))
(assert_return (invoke "load-then-addstore" (i32.const 1200) (i32.const 1300) (i32.const 2)) (i32.const 40))
(assert_return (invoke "get" (i32.const 1304)) (i32.const 42))
;; The sum written over the loaded value.
(assert_return (invoke "load-then-addstore" (i32.const 1200) (i32.const 1196) (i32.const -50)) (i32.const 40))
(assert_return (invoke "get" (i32.const 1200)) (i32.const -10))
(assert_trap (invoke "load-then-addstore" (i32.const 1200) (i32.const 65532) (i32.const 0)) "out of bounds memory access")
