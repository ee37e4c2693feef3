(module
  (memory (export "memory") 1)
  ;; XORs memory[0, len) in place with the 32-bit key repeated, 64 bytes a step, then 16.
  ;; len is a multiple of 16; the caller does the rest.
  (func (export "mask") (param $len i32) (param $key i32)
    (local $k v128) (local $p i32) (local $end64 i32)
    (local.set $k (i32x4.splat (local.get $key)))
    (local.set $end64 (i32.and (local.get $len) (i32.const -64)))
    (block $done64
      (loop $step64
        (br_if $done64 (i32.ge_u (local.get $p) (local.get $end64)))
        (v128.store offset=0 (local.get $p) (v128.xor (v128.load offset=0 (local.get $p)) (local.get $k)))
        (v128.store offset=16 (local.get $p) (v128.xor (v128.load offset=16 (local.get $p)) (local.get $k)))
        (v128.store offset=32 (local.get $p) (v128.xor (v128.load offset=32 (local.get $p)) (local.get $k)))
        (v128.store offset=48 (local.get $p) (v128.xor (v128.load offset=48 (local.get $p)) (local.get $k)))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $step64)))
    (block $done16
      (loop $step16
        (br_if $done16 (i32.ge_u (local.get $p) (local.get $len)))
        (v128.store (local.get $p) (v128.xor (v128.load (local.get $p)) (local.get $k)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $step16)))))
