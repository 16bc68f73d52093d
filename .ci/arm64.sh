#!/usr/bin/env bash
# ARM64 CI (README, "ARM64 / mobile"): builds the CLI for linux-arm64 twice (self-contained JIT, NativeAOT) and the C
# library (.a, .so), then runs them for real under qemu user-mode emulation and compares with this machine's x64 build:
#   - classify --verbose: the isa line must say Vector128 with AdvSimd (the NEON kernels, not the scalar fallback), on
#     qemu's Cortex-A53 model (ARMv8.0-A, no optional extension: the oldest 64-bit phone cores; the other runs use
#     qemu's default model, "max", with every extension qemu implements);
#   - classify --json on the demo photos (shared/images/demo) for the genuine 0.25_224 and 0.75_224 variants: same top-5
#     as x64, probabilities within 1e-4 (NativeAOT: all photos; JIT, whose emulated start-up is slow: five of them);
#   - eval --limit 50 on the dev photos with 0.25_224 (NativeAOT): same top-1 and top-5 counts as x64;
#   - detect --json (the uint8 SSD detector, NativeAOT) on three demo photos, cats_and_dogs.jpg among them, on qemu's
#     "max" (dot-product instructions) and Cortex-A53 models: every detection (class, score, box) identical to x64's, as
#     the integer network is bit-exact on every ISA;
#   - the C test (tests/native) cross-compiled with clang against the arm64 libmobilenet.a and libmobilenet.so, which hold
#     the classifier and the SSD detector (mng_detect_* on cats_and_dogs_600x300.bmp: the same detections from both).
# Installs its Debian packages itself when missing. Needs ../shared (photos) like the tests. Emulated timings mean nothing.
# Ends with the plain line "arm64: N passed, N failed" and exits non-zero on any failure.
#
# Environment: MNG_ARM64_OUT (default artifacts/arm64), MNG_SHARED (default ../shared).
set -uo pipefail
cd "$(dirname "$0")/.."
unset QCPU QEMU_CPU
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
out=${MNG_ARM64_OUT:-artifacts/arm64}
shared=${MNG_SHARED:-../shared}
demo=$shared/images/demo
dev=$shared/images/imagenet-sample-dev
sysroot=/usr/aarch64-linux-gnu
variants="0.25_224 0.75_224"
eval_variant=0.25_224
detect_photos="$demo/cats_and_dogs.jpg $demo/burger.jpg $demo/parrot.jpg"
packages="qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross libc6-dev-arm64-cross libgcc-12-dev-arm64-cross clang lld"
rm -rf "$out"; mkdir -p "$out"
passed=0; failed=0; start=$(date +%s)

result() { # result NAME STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "arm64: PASS $1"; else failed=$((failed + 1)); echo "arm64: FAIL $1"; fi
}
timed() { # timed LOG CMD...: runs CMD with output to LOG, prints the duration
  local log=$1; shift
  local t0=$(date +%s)
  "$@" >"$log" 2>&1
  local rc=$?
  echo "   ($(( $(date +%s) - t0 )) s, log $log)"
  return $rc
}
finish() { echo "== arm64 total: $(( $(date +%s) - start )) s"; echo "arm64: ${passed} passed, ${failed} failed"; [ "$failed" -eq 0 ]; exit; }
no_aot_warnings() { # no IL2xxx/IL3xxx (trim/AOT) warnings in a publish log
  local w
  w=$(grep -oE "warning IL[23][0-9]{3}[^[]*" "$1" | sort -u)
  if [ -n "$w" ]; then echo "$w" | head -20; return 1; fi
  return 0
}
is_aarch64() { readelf -h "$1" 2>/dev/null | grep -q "Machine:.*AArch64"; }
emulate() { # emulate NAME CMD...: runs CMD under qemu-aarch64 (CPU model $QCPU, default qemu's "max"); stdout NAME.out,
  local name=$1; shift        # stderr NAME.err, exit code NAME.rc, seconds NAME.sec
  local t0=$(date +%s)
  qemu-aarch64-static ${QCPU:+-cpu "$QCPU"} -L "$sysroot" "$@" >"$out/$name.out" 2>"$out/$name.err"
  echo $? >"$out/$name.rc"; echo $(( $(date +%s) - t0 )) >"$out/$name.sec"
}
emulated_ok() { # emulated_ok NAME: exit code 0, else shows stderr
  local rc; rc=$(cat "$out/$1.rc" 2>/dev/null || echo 99)
  echo "   $1: exit $rc, $(cat "$out/$1.sec" 2>/dev/null || echo '?') s (emulated)"
  [ "$rc" -eq 0 ] || { tail -5 "$out/$1.err"; return 1; }
}
# compare X64_JSON ARM_JSON COUNT: classify --json outputs; every arm64 image in x64's, same top-5 indices, |Δp| <= 1e-4,
# COUNT images, the arm64 simd field is Vector128.
compare() {
  python3 - "$@" <<'EOF'
import json, sys
x64 = {r["image"]: r for r in json.load(open(sys.argv[1]))}
arm = json.load(open(sys.argv[2]))
want = int(sys.argv[3])
bad = []
if len(arm) != want: bad.append(f"{len(arm)} images, expected {want}")
worst = 0.0
for r in arm:
    name = r["image"].rsplit("/", 1)[-1]
    ref = x64.get(r["image"])
    if ref is None: bad.append(f"{name}: not in the x64 results"); continue
    ia = [p["index"] for p in r["predictions"]]; ix = [p["index"] for p in ref["predictions"]]
    d = max(abs(p["probability"] - q["probability"]) for p, q in zip(r["predictions"], ref["predictions"]))
    worst = max(worst, d)
    ok = ia == ix and len(ia) == 5 and d <= 1e-4 and r["simd"] == "Vector128"
    print(f"     {name:26} x64 {ref['simd']:9} top-1 {ix[0]:4} {ref['predictions'][0]['probability']:.6f} | arm64 {r['simd']:9} "
          f"top-1 {ia[0]:4} {r['predictions'][0]['probability']:.6f} | top-5 {'same' if ia == ix else 'DIFFERENT'}, max |dp| {d:.1e}")
    if not ok: bad.append(f"{name}: top-5 {ia} vs x64 {ix}, max |dp| {d:.2e}, simd {r['simd']}")
print(f"     {len(arm)} images, max |dp| over all top-5 probabilities: {worst:.1e}")
for b in bad: print("     MISMATCH " + b)
sys.exit(1 if bad else 0)
EOF
}

# compare_detect X64_JSON ARM_JSON COUNT: detect --json outputs; COUNT images, each with x64's detections exactly (class,
# label, score, pixel and normalized box: the JSON carries every float exactly), the arm64 simd field Vector128, and
# cats_and_dogs.jpg listing a cat and a dog.
compare_detect() {
  python3 - "$@" <<'EOF'
import json, sys
x64 = {r["image"]: r for r in json.load(open(sys.argv[1]))}
arm = json.load(open(sys.argv[2]))
want = int(sys.argv[3])
bad = []
if len(arm) != want: bad.append(f"{len(arm)} images, expected {want}")
for r in arm:
    name = r["image"].rsplit("/", 1)[-1]
    ref = x64.get(r["image"])
    if ref is None: bad.append(f"{name}: not in the x64 results"); continue
    same = r["detections"] == ref["detections"] and (r["width"], r["height"]) == (ref["width"], ref["height"])
    labels = [d["label"] for d in r["detections"]]
    top = r["detections"][0] if r["detections"] else None
    print(f"     {name:22} {len(r['detections']):2} detections, best {top['label'] if top else '-'} {top['score'] if top else ''} | "
          f"x64 {ref['simd']:9} arm64 {r['simd']:9} | {'identical' if same else 'DIFFERENT'}")
    if not same: bad.append(f"{name}: detections differ from x64's")
    if r["simd"] != "Vector128": bad.append(f"{name}: simd {r['simd']}")
    if name == "cats_and_dogs.jpg" and not ("cat" in labels and "dog" in labels): bad.append(f"{name}: labels {labels}")
for b in bad: print("     MISMATCH " + b)
sys.exit(1 if bad else 0)
EOF
}

echo "== machine"; nproc; grep -m1 "model name" /proc/cpuinfo; dotnet --version

# ---------------------------------------------------------------------------------------------------------------------
echo "== packages: $packages"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "   installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  timed "$out/apt.log" sh -c "apt-get -o DPkg::Lock::Timeout=600 update -qq; apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends$missing"
  rc=$?; [ $rc -ne 0 ] && tail -20 "$out/apt.log"
else
  echo "   all present"
fi
tools_ok=0
for t in qemu-aarch64-static clang ld.lld python3 readelf; do command -v $t >/dev/null || { echo "   missing: $t"; tools_ok=1; }; done
for f in "$sysroot/lib/ld-linux-aarch64.so.1" "$sysroot/lib/libstdc++.so.6" "$sysroot/lib/crti.o" /usr/lib/gcc-cross/aarch64-linux-gnu/*/crtbeginS.o; do
  [ -e "$f" ] || { echo "   missing: $f"; tools_ok=1; }
done
result "toolchain: qemu-aarch64-static, clang, lld, aarch64 glibc/libstdc++ (installed with apt-get if missing)" $tools_ok
[ $tools_ok -ne 0 ] && finish
qemu-aarch64-static --version | head -1; clang --version | head -1
if [ ! -f "$demo/grace_hopper.bmp" ] || [ ! -f "$dev/ground_truth.tsv" ]; then
  result "shared data present ($demo, $dev)" 1; finish
fi

# ---------------------------------------------------------------------------------------------------------------------
echo "== x64 reference: dotnet build cli/MobileNetGen.Cli -c Release, classify --json and eval --json"
timed "$out/x64-build.log" dotnet build cli/MobileNetGen.Cli -c Release -nologo
rc=$?; [ $rc -ne 0 ] && tail -30 "$out/x64-build.log"
result "x64 CLI build" $rc
x64_cli=cli/MobileNetGen.Cli/bin/Release/net10.0/mobilenetgen.dll
for v in $variants; do
  dotnet "$x64_cli" classify --json --variant "$v" "$demo"/* >"$out/x64-classify-$v.json" 2>"$out/x64-classify-$v.err" || tail -5 "$out/x64-classify-$v.err"
done
# Google's uint8 1.0_224 (integer kernels): the same uint8 network on every ISA, so the same top-5 and probabilities.
dotnet "$x64_cli" classify --json --variant 1.0_224_quant "$demo"/* >"$out/x64-classify-1.0_224_quant.json" 2>"$out/x64-classify-quant.err" || tail -5 "$out/x64-classify-quant.err"
dotnet "$x64_cli" eval --json --variant "$eval_variant" --images "$dev" --limit 50 >"$out/x64-eval.json" 2>"$out/x64-eval.err" || tail -5 "$out/x64-eval.err"
dotnet "$x64_cli" detect --json --threshold 0 $detect_photos >"$out/x64-detect.json" 2>"$out/x64-detect.err" || tail -5 "$out/x64-detect.err"

# ---------------------------------------------------------------------------------------------------------------------
echo "== JIT: dotnet publish cli/MobileNetGen.Cli -c Release -r linux-arm64 --self-contained"
timed "$out/jit-publish.log" dotnet publish cli/MobileNetGen.Cli -c Release -r linux-arm64 --self-contained -o "$out/jit" -nologo
rc=$?; [ $rc -ne 0 ] && tail -30 "$out/jit-publish.log"
result "JIT self-contained publish (linux-arm64)" $rc
is_aarch64 "$out/jit/mobilenetgen"; result "JIT apphost is an AArch64 ELF" $?

echo "== NativeAOT: dotnet publish cli/MobileNetGen.Cli -c Release -r linux-arm64 -p:PublishAot=true -p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld"
timed "$out/aot-publish.log" dotnet publish cli/MobileNetGen.Cli -c Release -r linux-arm64 -p:PublishAot=true \
    -p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld -o "$out/aot" -nologo
rc=$?; [ $rc -ne 0 ] && tail -30 "$out/aot-publish.log"
result "NativeAOT publish (linux-arm64, clang + lld)" $rc
no_aot_warnings "$out/aot-publish.log"; result "NativeAOT publish has no IL2xxx/IL3xxx warnings" $?
rsp=cli/MobileNetGen.Cli/obj/Release/net10.0/linux-arm64/native/mobilenetgen.ilc.rsp
grep -q -- "--targetarch:arm64" "$rsp" 2>/dev/null && ! grep -q -- "--instruction-set" "$rsp"
result "ILC targets arm64 with no x64 instruction set (MobileNetIsa is x64-only)" $?
is_aarch64 "$out/aot/mobilenetgen"; result "NativeAOT binary is an AArch64 ELF" $?

for kind in Static Shared; do
  lower=$(echo "$kind" | tr 'A-Z' 'a-z'); ext=$([ $lower = shared ] && echo so || echo a)
  echo "== C library, $lower: dotnet publish runtime/MobileNetGen.Native -c Release -r linux-arm64 -p:NativeLib=$kind -p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld"
  timed "$out/lib-$lower-publish.log" dotnet publish runtime/MobileNetGen.Native -c Release -r linux-arm64 -p:NativeLib=$kind \
      -p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld -o "$out/lib-$lower" -nologo
  rc=$?; [ $rc -ne 0 ] && tail -30 "$out/lib-$lower-publish.log"
  result "libmobilenet.$ext publish (linux-arm64)" $rc
  CC="clang --target=aarch64-linux-gnu -fuse-ld=lld" bash tests/native/build.sh "$lower" "$out/lib-$lower" "$out/mobilenet_test_$lower" \
      >"$out/test-$lower-build.log" 2>&1
  rc=$?; [ $rc -ne 0 ] && tail -20 "$out/test-$lower-build.log"
  is_aarch64 "$out/mobilenet_test_$lower" || rc=1
  result "C test cross-compiled with clang --target=aarch64-linux-gnu against libmobilenet.$ext" $rc
done

# ---------------------------------------------------------------------------------------------------------------------
# Under emulation. Nothing may force an ISA: drop any DOTNET_Enable*/PreferredVectorBitWidth knob from the environment.
for var in $(compgen -e | grep -E '^(DOTNET|COMPlus)_(Enable|PreferredVectorBitWidth)'); do echo "   unset $var"; unset "$var"; done
jit_photos="$demo/grace_hopper.bmp $demo/cat.bmp $demo/burger.jpg $demo/parrot.jpg $demo/sparrow.png"
demo_count=$(ls "$demo" | wc -l)
echo "== emulated runs (qemu-aarch64-static -L $sysroot), two at a time"
t0=$(date +%s)
( emulate aot-classify-0.75_224 "$out/aot/mobilenetgen" classify --json --variant 0.75_224 "$demo"/*
  QCPU=cortex-a53 emulate jit-verbose "$out/jit/mobilenetgen" classify --verbose "$demo/grace_hopper.bmp"
  emulate c-test-shared "$out/mobilenet_test_shared" tests/MobileNetGen.Tests/Fixtures detector ) &
a=$!
( QCPU=cortex-a53 emulate aot-verbose "$out/aot/mobilenetgen" classify --verbose "$demo/grace_hopper.bmp"
  emulate aot-classify-0.25_224 "$out/aot/mobilenetgen" classify --json --variant 0.25_224 "$demo"/*
  emulate jit-classify-0.25_224 "$out/jit/mobilenetgen" classify --json --variant 0.25_224 $jit_photos
  emulate jit-classify-0.75_224 "$out/jit/mobilenetgen" classify --json --variant 0.75_224 $jit_photos
  emulate c-test-static "$out/mobilenet_test_static" tests/MobileNetGen.Tests/Fixtures detector ) &
b=$!
wait $a $b
emulate aot-eval "$out/aot/mobilenetgen" eval --json --variant "$eval_variant" --images "$dev" --limit 50
# The integer kernels with the dot-product instructions (qemu "max" has FEAT_DotProd) and without them (Cortex-A53).
( emulate aot-quant-max "$out/aot/mobilenetgen" classify --json --variant 1.0_224_quant "$demo"/*
  emulate aot-quant-max-verbose "$out/aot/mobilenetgen" classify --verbose --variant 1.0_224_quant "$demo/parrot.jpg"
  emulate aot-detect-max "$out/aot/mobilenetgen" detect --json --threshold 0 $detect_photos ) &
a=$!
( QCPU=cortex-a53 emulate aot-quant-a53 "$out/aot/mobilenetgen" classify --json --variant 1.0_224_quant "$demo"/*
  QCPU=cortex-a53 emulate aot-quant-a53-verbose "$out/aot/mobilenetgen" classify --verbose --variant 1.0_224_quant "$demo/parrot.jpg"
  QCPU=cortex-a53 emulate aot-detect-a53 "$out/aot/mobilenetgen" detect --json --threshold 0 $detect_photos ) &
b=$!
wait $a $b
echo "   emulated runs: $(( $(date +%s) - t0 )) s"

for flavour in jit aot; do
  name=$([ $flavour = jit ] && echo "JIT" || echo "NativeAOT")
  echo "== $name: classify --verbose (qemu -cpu cortex-a53)"
  emulated_ok $flavour-verbose; rc=$?
  cat "$out/$flavour-verbose.out"
  result "$name runs under qemu-aarch64 -cpu cortex-a53 (ARMv8.0-A)" $rc
  isa=$(grep -E "^isa: " "$out/$flavour-verbose.out")
  echo "$isa" | grep -q "^isa: Vector128 " && echo "$isa" | grep -q "AdvSimd: True" && echo "$isa" | grep -q "Vector256: False"
  result "$name isa line says Vector128 with AdvSimd: True (Vector256: False)" $?
done

for flavour in aot jit; do
  name=$([ $flavour = jit ] && echo "JIT" || echo "NativeAOT")
  count=$([ $flavour = jit ] && echo 5 || echo "$demo_count")
  for v in $variants; do
    echo "== $name classify --variant $v ($count demo photos) vs x64"
    emulated_ok $flavour-classify-$v && compare "$out/x64-classify-$v.json" "$out/$flavour-classify-$v.out" "$count"
    result "$name classify $v: top-5 equals x64 on $count demo photos, |dp| <= 1e-4, simd Vector128" $?
  done
done

for cpu in max a53; do
  want=$([ $cpu = max ] && echo "Vector128Dot (dot-product instruction: hardware)" || echo "Vector128 (dot-product instruction: none used)")
  echo "== NativeAOT uint8 1.0_224_quant on qemu -cpu $([ $cpu = max ] && echo max || echo cortex-a53) vs x64"
  emulated_ok aot-quant-$cpu-verbose && grep -E "^integer isa:" "$out/aot-quant-$cpu-verbose.out" | sed 's/^/   /'
  grep -qF "integer isa: $want" "$out/aot-quant-$cpu-verbose.out"; result "NativeAOT 1.0_224_quant on $cpu runs the integer kernels on $want" $?
  emulated_ok aot-quant-$cpu && compare "$out/x64-classify-1.0_224_quant.json" "$out/aot-quant-$cpu.out" "$demo_count"
  result "NativeAOT classify 1.0_224_quant on $cpu: top-5 equals x64 on $demo_count demo photos, |dp| <= 1e-4" $?
done

detect_count=$(echo $detect_photos | wc -w)
for cpu in max a53; do
  echo "== NativeAOT detect (uint8 SSD) on qemu -cpu $([ $cpu = max ] && echo max || echo cortex-a53), $detect_count demo photos, vs x64"
  emulated_ok aot-detect-$cpu && compare_detect "$out/x64-detect.json" "$out/aot-detect-$cpu.out" "$detect_count"
  result "NativeAOT detect on $cpu: every detection identical to x64's on $detect_count demo photos (cats_and_dogs.jpg: cat and dog)" $?
done

echo "== NativeAOT eval --variant $eval_variant --limit 50 vs x64"
emulated_ok aot-eval && python3 - "$out/x64-eval.json" "$out/aot-eval.out" <<'EOF'
import json, sys
x, a = (json.load(open(p)) for p in sys.argv[1:3])
keys = ["images", "top1_correct", "top5_correct", "missing", "unreadable", "simd"]
for k in keys: print(f"     {k:13} x64 {x[k]!s:10} arm64 {a[k]!s:10}")
print(f"     seconds       x64 {x['seconds']:<10} arm64 {a['seconds']:<10} (emulated: means nothing)")
sys.exit(0 if a["images"] == 50 and all(a[k] == x[k] for k in keys[1:5]) and a["simd"] == "Vector128" else 1)
EOF
result "NativeAOT eval $eval_variant --limit 50: same top-1 and top-5 counts as x64" $?

for lower in static shared; do
  echo "== C test ($lower library) under qemu"
  emulated_ok c-test-$lower; rc=$?
  grep -E "simd|top-5:|RGB24: [0-9]+ detections|^      #|top detection" "$out/c-test-$lower.out" | sed 's/^/   /'; tail -1 "$out/c-test-$lower.out"
  grep -q "mng_simd(handle) = Vector128" "$out/c-test-$lower.out" || rc=1
  grep -q "mng_detector_simd(detector) = Vector128" "$out/c-test-$lower.out" || rc=1
  result "C test against the arm64 libmobilenet.$([ $lower = shared ] && echo so || echo a): $(tail -1 "$out/c-test-$lower.out"), simd Vector128 (classifier and detector)" $rc
  grep -q "^ok    top detection is a cat or a dog" "$out/c-test-$lower.out" && grep -q "^ok    detect BGRA32" "$out/c-test-$lower.out"
  result "C test ($lower): mng_detect_* finds a cat or dog on top of cats_and_dogs_600x300.bmp, BGRA32 equals RGB24" $?
done
# The .so and the .a are the same code: the same detections, to the printed digits.
grep -E "^      #" "$out/c-test-static.out" >"$out/c-test-static.detections"; grep -E "^      #" "$out/c-test-shared.out" >"$out/c-test-shared.detections"
[ -s "$out/c-test-static.detections" ] && cmp -s "$out/c-test-static.detections" "$out/c-test-shared.detections"
result "C test: libmobilenet.a and libmobilenet.so give the same $(wc -l <"$out/c-test-static.detections") detections" $?

# ---------------------------------------------------------------------------------------------------------------------
echo "== linux-arm64 sizes (bytes)"
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
size() { [ -e "$1" ] && stat -c %s "$1" || echo 0; }
jit_all=$(du -sb "$out/jit" 2>/dev/null | cut -f1); jit_all=${jit_all:-0}
jit_pdb=$(find "$out/jit" -name '*.pdb' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
echo "   JIT self-contained folder:       $jit_all ($(mb "$jit_all"); without .pdb $(mb $((jit_all - jit_pdb))))"
echo "   NativeAOT mobilenetgen:          $(size "$out/aot/mobilenetgen") ($(mb "$(size "$out/aot/mobilenetgen")"))"
echo "   libmobilenet.so (0.25_224 + SSD): $(size "$out/lib-shared/libmobilenet.so") ($(mb "$(size "$out/lib-shared/libmobilenet.so")"))"
echo "   libmobilenet.a (0.25_224 + SSD):  $(size "$out/lib-static/libmobilenet.a") ($(mb "$(size "$out/lib-static/libmobilenet.a")"))"
echo "   C test linked against the .a:    $(size "$out/mobilenet_test_static") ($(mb "$(size "$out/mobilenet_test_static")"), unstripped)"
finish
