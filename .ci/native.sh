#!/usr/bin/env bash
# Native CI (docs/native.md): NativeAOT CLI, the minimal NativeAOT app, the C library as .so and .a (classifier and SSD
# detector), the uint8 1.0_224 library, a classifier-only library (-p:MobileNetDetector=false), and the C test linked
# against each. Works from a clean checkout (needs gcc; NuGet restores the ILCompiler packages).
# Ends with the plain line "native: N passed, N failed" and exits non-zero on any failure.
#
# Environment: MNG_NATIVE_OUT (default artifacts/native), MNG_EXPECT_SIMD (default Vector256: the CLI's default ISA is
# x86-64-v3, so the AVX2 kernels must run), MNG_NATIVE_SKIP_CLI=1 to skip the slow CLI publish (17 variants through ILC),
# MNG_SHARED (default ../shared: the demo photo cats_and_dogs.jpg of the detect checks, skipped when it is absent).
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
out=${MNG_NATIVE_OUT:-artifacts/native}
expect_simd=${MNG_EXPECT_SIMD:-Vector256}
fixtures=tests/MobileNetGen.Tests/Fixtures
shared=${MNG_SHARED:-../shared}
mkdir -p "$out"
passed=0; failed=0

result() { # result NAME STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "native: PASS $1"; else failed=$((failed + 1)); echo "native: FAIL $1"; fi
}
timed() { # timed LOG CMD...: runs CMD with output to LOG, prints the duration
  local log=$1; shift
  local t0=$(date +%s)
  "$@" >"$log" 2>&1
  local rc=$?
  echo "   ($(( $(date +%s) - t0 )) s, log $log)"
  return $rc
}
no_aot_warnings() { # no IL2xxx/IL3xxx (trim/AOT) warnings in a publish log
  local w
  w=$(grep -oE "warning IL[23][0-9]{3}[^[]*" "$1" | sort -u)
  if [ -n "$w" ]; then echo "$w" | head -20; return 1; fi
  return 0
}

echo "== machine"; nproc; grep -m1 "model name" /proc/cpuinfo; gcc --version | head -1
grep -qw avx2 /proc/cpuinfo && echo "AVX2: yes" || echo "AVX2: NO (x86-64-v3 binaries will refuse to start)"

# ---------------------------------------------------------------------------------------------------------------------
if [ "${MNG_NATIVE_SKIP_CLI:-}" != "1" ]; then
  echo "== NativeAOT CLI: dotnet publish cli/MobileNetGen.Cli -c Release -r linux-x64 -p:PublishAot=true"
  timed "$out/cli-publish.log" dotnet publish cli/MobileNetGen.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out/cli" -nologo
  rc=$?; [ $rc -ne 0 ] && tail -30 "$out/cli-publish.log"
  result "CLI publish (NativeAOT)" $rc
  no_aot_warnings "$out/cli-publish.log"; result "CLI publish has no IL2xxx/IL3xxx warnings" $?

  if [ -x "$out/cli/mobilenetgen" ]; then
    ls -l "$out/cli/mobilenetgen"
    "$out/cli/mobilenetgen" classify --verbose "$fixtures/grace_hopper.bmp" | tee "$out/cli-classify.txt"
    rc=${PIPESTATUS[0]}
    result "AOT CLI classify exits 0" $rc
    first=$(grep -E "(│|\|) *1 *(│|\|)" "$out/cli-classify.txt" | head -1)   # the table's row 1
    echo "$first" | grep -q "bow tie"; result "AOT CLI top-1 on grace_hopper.bmp is bow tie" $?
    grep -q "$expect_simd" "$out/cli-classify.txt"; result "AOT CLI reports simd $expect_simd" $?

    # Same top-5 and probabilities (within 1e-5) as the JIT build.
    "$out/cli/mobilenetgen" classify --json "$fixtures/grace_hopper.bmp" >"$out/aot.json" 2>/dev/null
    dotnet run -c Release --project cli/MobileNetGen.Cli -- classify --json "$fixtures/grace_hopper.bmp" >"$out/jit.json" 2>"$out/jit-run.log"
    extract() { grep -oE '"(index|probability)": *[-0-9.eE+]+' "$1" | sed -E 's/.*: *//' | paste - -; }
    extract "$out/aot.json" >"$out/aot.top"; extract "$out/jit.json" >"$out/jit.top"
    echo "   AOT vs JIT top-5 (index probability):"; paste "$out/aot.top" "$out/jit.top" | sed 's/^/     /'
    awk 'NR==FNR { i[NR]=$1; p[NR]=$2; n=NR; next }
         { if ($1 != i[FNR]) bad=1; d=$2-p[FNR]; if (d<0) d=-d; if (d>1e-5) bad=1; m=FNR }
         END { exit (bad || m != n || n < 5) }' "$out/aot.top" "$out/jit.top"
    result "AOT CLI top-5 equals the JIT build's, probabilities within 1e-5" $?

    # Google's uint8 1.0_224 (integer kernels) under NativeAOT: the same uint8 logits as the JIT build, so the same top-5.
    "$out/cli/mobilenetgen" classify --variant 1.0_224_quant --json "$fixtures/parrot.jpg" >"$out/aot-quant.json" 2>/dev/null
    dotnet run -c Release --project cli/MobileNetGen.Cli -- classify --variant 1.0_224_quant --json "$fixtures/parrot.jpg" >"$out/jit-quant.json" 2>>"$out/jit-run.log"
    extract "$out/aot-quant.json" >"$out/aot-quant.top"; extract "$out/jit-quant.json" >"$out/jit-quant.top"
    head -1 "$out/aot-quant.top" | grep -qE '^89[[:space:]]'; result "AOT CLI 1.0_224_quant: parrot.jpg is a macaw (89)" $?
    cmp -s "$out/aot-quant.top" "$out/jit-quant.top"; result "AOT CLI 1.0_224_quant top-5 equals the JIT build's exactly" $?

    # The uint8 SSD detector (detect) under NativeAOT on tflite-support's photo of cats and dogs.
    photo=$shared/images/demo/cats_and_dogs.jpg
    if [ -f "$photo" ]; then
      "$out/cli/mobilenetgen" detect "$photo" | tee "$out/cli-detect.txt"
      rc=${PIPESTATUS[0]}
      result "AOT CLI detect exits 0" $rc
      rows=$(grep -E "(│|\|) *[0-9]+ *(│|\|)" "$out/cli-detect.txt")            # the table's rows
      echo "$rows" | grep -qE "(│|\|) *cat *(│|\|)" && echo "$rows" | grep -qE "(│|\|) *dog *(│|\|)"
      result "AOT CLI detect on cats_and_dogs.jpg lists cat and dog" $?
      # The integer network is bit-exact on every ISA: every detection (class, score, box) equals the JIT build's.
      # Only the SIMD path and the time may differ.
      "$out/cli/mobilenetgen" detect --json --threshold 0 "$photo" 2>/dev/null | grep -vE '"(simd|milliseconds)":' >"$out/aot-detect.json"
      dotnet run -c Release --project cli/MobileNetGen.Cli -- detect --json --threshold 0 "$photo" 2>>"$out/jit-run.log" \
          | grep -vE '"(simd|milliseconds)":' >"$out/jit-detect.json"
      grep -q '"class_index"' "$out/aot-detect.json" && cmp -s "$out/aot-detect.json" "$out/jit-detect.json"
      result "AOT CLI detect --json (10 detections) equals the JIT build's exactly" $?
      rm -f "$out/detect-boxes.png"
      "$out/cli/mobilenetgen" detect --draw "$out/detect-boxes.png" "$photo" >/dev/null \
        && [ "$(head -c 8 "$out/detect-boxes.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
      result "AOT CLI detect --draw writes a PNG" $?
    else
      echo "native: SKIP AOT CLI detect checks ($photo not found; MNG_SHARED)"
    fi
  else
    result "AOT CLI binary exists" 1
  fi
fi

# ---------------------------------------------------------------------------------------------------------------------
echo "== samples/MinimalApp (one variant, NativeAOT)"
timed "$out/minimalapp-publish.log" dotnet publish samples/MinimalApp -c Release -r linux-x64 -o "$out/minimalapp" -nologo
rc=$?; [ $rc -ne 0 ] && tail -30 "$out/minimalapp-publish.log"
result "MinimalApp publish (NativeAOT)" $rc
no_aot_warnings "$out/minimalapp-publish.log"; result "MinimalApp publish has no IL2xxx/IL3xxx warnings" $?
if [ -x "$out/minimalapp/minimalapp" ]; then
  ls -l "$out/minimalapp/minimalapp"
  "$out/minimalapp/minimalapp" "$fixtures/grace_hopper.bmp" | tee "$out/minimalapp.txt"
  head -1 "$out/minimalapp.txt" | grep -q "bow tie"; result "MinimalApp top-1 on grace_hopper.bmp is bow tie" $?
  "$out/minimalapp/minimalapp" "$fixtures/burger.jpg" | tee "$out/minimalapp-burger.txt"
  head -1 "$out/minimalapp-burger.txt" | grep -q "cheeseburger"; result "MinimalApp top-1 on burger.jpg is cheeseburger" $?
  # A JPEG with an EXIF block (burger.jpg plus an APP1 segment: Orientation = 1). ImageSharp's EXIF reader calls
  # Enum.GetValues(typeof(ExifDataType)) (its AOT warning IL3050), which fails under NativeAOT unless ExifDataType[]
  # was compiled in (MobileNetGen.Runtime's ImageLoader makes sure of it).
  { printf '\xff\xd8\xff\xe1\x00\x22Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00'
    tail -c +3 "$fixtures/burger.jpg"; } >"$out/burger_exif.jpg"
  "$out/minimalapp/minimalapp" "$out/burger_exif.jpg" | tee "$out/minimalapp-exif.txt"
  head -1 "$out/minimalapp-exif.txt" | grep -q "cheeseburger"; result "MinimalApp classifies a JPEG with EXIF (cheeseburger)" $?
  # MinimalApp sets MobileNetTrimImageFormats (ImageSharp's WebP, TIFF, GIF, TGA and PBM codecs left out): PNG still
  # decodes, and a GIF is still refused with the loader's message and exit code 2, as without the property.
  if [ -f ../shared/images/demo/sparrow.png ]; then
    "$out/minimalapp/minimalapp" ../shared/images/demo/sparrow.png | tee "$out/minimalapp-png.txt"
    [ -s "$out/minimalapp-png.txt" ]; result "MinimalApp (trimmed image formats) classifies a PNG" $?
  fi
  printf 'GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;' >"$out/one.gif"
  "$out/minimalapp/minimalapp" "$out/one.gif" 2>"$out/minimalapp-gif.err"; rc=$?
  cat "$out/minimalapp-gif.err"
  [ $rc -eq 2 ] && grep -q "not a JPEG, PNG or BMP image" "$out/minimalapp-gif.err"; result "MinimalApp refuses a GIF with exit code 2 and the loader's message" $?
else
  result "MinimalApp binary exists" 1
fi

# The ImageSharp warnings that the projects fold and silence must be exactly the two analysed in docs/native.md.
echo "== ImageSharp AOT warnings audit (MinimalApp with -p:MobileNetShowImageSharpAotWarnings=true)"
timed "$out/minimalapp-audit.log" dotnet publish samples/MinimalApp -c Release -r linux-x64 -o "$out/minimalapp-audit" -nologo \
    -p:MobileNetShowImageSharpAotWarnings=true
grep -oE "warning IL[23][0-9]{3}: [^(:]*" "$out/minimalapp-audit.log" | sort -u | tee "$out/imagesharp-warnings.txt"
printf '%s\n' "warning IL2075: SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTagDescriptionAttribute.GetDescription" \
    "warning IL3050: SixLabors.ImageSharp.EnumUtils.Parse<TEnum>" | sort >"$out/imagesharp-warnings.expected"
diff "$out/imagesharp-warnings.expected" "$out/imagesharp-warnings.txt"
result "ImageSharp's AOT warnings are exactly the two analysed ones" $?

# ---------------------------------------------------------------------------------------------------------------------
for kind in Shared Static Quant Nodetector; do
  lower=$(echo "$kind" | tr 'A-Z' 'a-z')
  # "Quant": the shared library built for Google's uint8 1.0_224 (integer kernels behind the same C ABI).
  # "Nodetector": the default shared library without the SSD detector: its mng_detect_* say MNG_E_NOT_BUILT.
  extra=""; lib=$kind; detector=detector
  if [ "$kind" = Quant ]; then extra="-p:MobileNetVariant=1.0_224_quant"; lib=Shared; fi
  if [ "$kind" = Nodetector ]; then extra="-p:MobileNetDetector=false"; lib=Shared; detector=no-detector; fi
  echo "== C library, $lower: dotnet publish runtime/MobileNetGen.Native -c Release -r linux-x64 -p:NativeLib=$lib $extra"
  timed "$out/lib-$lower-publish.log" dotnet publish runtime/MobileNetGen.Native -c Release -r linux-x64 -p:NativeLib=$lib $extra -o "$out/lib-$lower" -nologo
  rc=$?; [ $rc -ne 0 ] && tail -30 "$out/lib-$lower-publish.log"
  result "libmobilenet $lower publish" $rc
  no_aot_warnings "$out/lib-$lower-publish.log"; result "libmobilenet $lower publish has no IL2xxx/IL3xxx warnings" $?
  ls -l "$out/lib-$lower"/libmobilenet.* 2>/dev/null

  linkage=$lower; [ "$lib" = Shared ] && linkage=shared
  bash tests/native/build.sh "$linkage" "$out/lib-$lower" "$out/mobilenet_test_$lower" >"$out/test-$lower-build.log" 2>&1
  rc=$?; cat "$out/test-$lower-build.log"
  result "C test links against libmobilenet.$([ $linkage = shared ] && echo so || echo a) ($lower)" $rc
  if [ $rc -eq 0 ]; then
    [ "$lower" = static ] && ldd "$out/mobilenet_test_$lower" | sed 's/^/   ldd: /'
    "$out/mobilenet_test_$lower" "$fixtures" $detector | tee "$out/test-$lower.txt"
    rc=${PIPESTATUS[0]}
    result "C test ($lower, $detector): $(tail -1 "$out/test-$lower.txt")" $rc
    if [ $detector = detector ]; then
      # The detector on cats_and_dogs_600x300.bmp: a cat or dog on top (score > 0.4), BGRA32 = RGB24.
      grep -q "^ok    top detection is a cat or a dog" "$out/test-$lower.txt" && grep -q "^ok    detect BGRA32" "$out/test-$lower.txt"
      result "C test ($lower): mng_detect_* finds a cat or dog on top, BGRA32 equals RGB24" $?
    else
      grep -q "^ok    no detector built in: mng_detect_rgb24 -> MNG_E_NOT_BUILT" "$out/test-$lower.txt"
      result "C test ($lower): mng_detect_* return MNG_E_NOT_BUILT" $?
    fi
  fi
done

size() { [ -e "$1" ] && stat -c %s "$1" || echo 0; }
echo "== libmobilenet.so sizes (bytes): 0.25_224 with the detector $(size "$out/lib-shared/libmobilenet.so"), without $(size "$out/lib-nodetector/libmobilenet.so"); 1.0_224_quant with it $(size "$out/lib-quant/libmobilenet.so")"
echo "native: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
