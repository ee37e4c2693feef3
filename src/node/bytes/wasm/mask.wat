(module
  ;; Two pages: [0, 64 KiB) is where payloads are copied to be masked, [64 KiB, 128 KiB) is the
  ;; read area a server's sockets read into (see apply-mask-fast.ts).
  (memory (export "memory") 2)
  ;; XORs memory[at, at + len) in place with the 32-bit key repeated (its low byte goes with
  ;; memory[at]): 64 bytes a step, then 16, then one byte at a time, so no byte past the end is
  ;; touched.
  (func (export "mask") (param $at i32) (param $len i32) (param $key i32)
    (local $k v128) (local $p i32) (local $end i32) (local $end64 i32) (local $end16 i32)
    (local.set $k (i32x4.splat (local.get $key)))
    (local.set $p (local.get $at))
    (local.set $end (i32.add (local.get $at) (local.get $len)))
    (local.set $end64 (i32.add (local.get $at) (i32.and (local.get $len) (i32.const -64))))
    (local.set $end16 (i32.add (local.get $at) (i32.and (local.get $len) (i32.const -16))))
    (block $done64
      (loop $step64
        (br_if $done64 (i32.ge_u (local.get $p) (local.get $end64)))
        (v128.store offset=0 align=1 (local.get $p) (v128.xor (v128.load offset=0 align=1 (local.get $p)) (local.get $k)))
        (v128.store offset=16 align=1 (local.get $p) (v128.xor (v128.load offset=16 align=1 (local.get $p)) (local.get $k)))
        (v128.store offset=32 align=1 (local.get $p) (v128.xor (v128.load offset=32 align=1 (local.get $p)) (local.get $k)))
        (v128.store offset=48 align=1 (local.get $p) (v128.xor (v128.load offset=48 align=1 (local.get $p)) (local.get $k)))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $step64)))
    (block $done16
      (loop $step16
        (br_if $done16 (i32.ge_u (local.get $p) (local.get $end16)))
        (v128.store align=1 (local.get $p) (v128.xor (v128.load align=1 (local.get $p)) (local.get $k)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $step16)))
    ;; The last 0-15 bytes: the key byte for each is the key shifted by its distance from $at.
    (block $done1
      (loop $step1
        (br_if $done1 (i32.ge_u (local.get $p) (local.get $end)))
        (i32.store8 (local.get $p)
          (i32.xor
            (i32.load8_u (local.get $p))
            (i32.shr_u (local.get $key) (i32.shl (i32.and (i32.sub (local.get $p) (local.get $at)) (i32.const 3)) (i32.const 3)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $step1)))))
