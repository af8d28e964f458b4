;; Bug (executor): floor/ceil/trunc of a signalling NaN returned it unchanged on x86-64
;; without SSE4.1 (libm's floorf), where the spec requires an arithmetic (quiet) NaN.
;; Found by wasm-v1/f32.wast:2456 and friends.
(module
  (func (export "f32.floor") (param f32) (result f32) (f32.floor (local.get 0)))
  (func (export "f32.ceil") (param f32) (result f32) (f32.ceil (local.get 0)))
  (func (export "f32.trunc") (param f32) (result f32) (f32.trunc (local.get 0)))
  (func (export "f32.nearest") (param f32) (result f32) (f32.nearest (local.get 0)))
  (func (export "f32.sqrt") (param f32) (result f32) (f32.sqrt (local.get 0)))
  (func (export "f64.floor") (param f64) (result f64) (f64.floor (local.get 0)))
  (func (export "f64.ceil") (param f64) (result f64) (f64.ceil (local.get 0)))
  (func (export "f64.trunc") (param f64) (result f64) (f64.trunc (local.get 0)))
  (func (export "f64.nearest") (param f64) (result f64) (f64.nearest (local.get 0)))
  (func (export "f64.sqrt") (param f64) (result f64) (f64.sqrt (local.get 0))))

(assert_return (invoke "f32.floor" (f32.const nan:0x200000)) (f32.const nan:arithmetic))
(assert_return (invoke "f32.ceil" (f32.const -nan:0x200000)) (f32.const nan:arithmetic))
(assert_return (invoke "f32.trunc" (f32.const nan:0x1)) (f32.const nan:arithmetic))
(assert_return (invoke "f32.nearest" (f32.const nan:0x1)) (f32.const nan:arithmetic))
(assert_return (invoke "f32.sqrt" (f32.const nan:0x1)) (f32.const nan:arithmetic))
(assert_return (invoke "f64.floor" (f64.const nan:0x4000000000000)) (f64.const nan:arithmetic))
(assert_return (invoke "f64.ceil" (f64.const -nan:0x4000000000000)) (f64.const nan:arithmetic))
(assert_return (invoke "f64.trunc" (f64.const nan:0x1)) (f64.const nan:arithmetic))
(assert_return (invoke "f64.nearest" (f64.const nan:0x1)) (f64.const nan:arithmetic))
(assert_return (invoke "f64.sqrt" (f64.const nan:0x1)) (f64.const nan:arithmetic))
