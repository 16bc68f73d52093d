#!/usr/bin/env bash
# Long fuzz run of one target under AFL++ with SharpFuzz instrumentation.
#   tests/MobileNetGen.Fuzz/run.sh TARGET MINUTES
# TARGET: graphdef | tflite | tfjs | weights | image | tflite-quant | weights-quant | tflite-ssd | weights-ssd. Needs afl-fuzz (Debian: apt-get install afl++) and the
# sharpfuzz tool (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0). Output goes to
# $MNG_FUZZ_OUT/TARGET (default /tmp/mobilenetgen-fuzz/TARGET): bin/ (instrumented publish), replay/ (the same,
# uninstrumented, for `replay`), corpus/ (seeds),
# findings/ (AFL's queue, crashes, hangs, fuzzer_stats), notes/ (image inputs whose ImageLoadException wraps a
# decoder bug type). Run it at low priority on a shared machine: nice -n 19 tests/MobileNetGen.Fuzz/run.sh image 30
set -euo pipefail
target=${1:?usage: run.sh TARGET MINUTES}
minutes=${2:?usage: run.sh TARGET MINUTES}
here=$(cd "$(dirname "$0")" && pwd)
out=${MNG_FUZZ_OUT:-/tmp/mobilenetgen-fuzz}/$target
export PATH="$PATH:$HOME/.dotnet/tools"
command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 2; }
command -v sharpfuzz >/dev/null || { echo "sharpfuzz not found: dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0" >&2; exit 2; }

case $target in
  graphdef) libs="MobileNetGen.Importers MobileNetGen.Model Google.Protobuf" ;;
  tflite|tflite-quant|tflite-ssd) libs="MobileNetGen.Importers MobileNetGen.Model Google.FlatBuffers" ;;
  tfjs)     libs="MobileNetGen.Importers MobileNetGen.Model" ;;  # System.Text.Json is part of the framework: not instrumented
  weights|weights-quant|weights-ssd) libs="MobileNetGen.Model" ;;
  image)    libs="MobileNetGen.Runtime SixLabors.ImageSharp" ;;
  *) echo "unknown target '$target' (graphdef, tflite, tfjs, weights, image, tflite-quant, weights-quant, tflite-ssd, weights-ssd)" >&2; exit 2 ;;
esac

rm -rf "$out/bin" "$out/corpus"
mkdir -p "$out"
dotnet publish "$here/MobileNetGen.Fuzz.csproj" -c Release -o "$out/bin" --nologo -v quiet
# Seeds are generated (and checked to be accepted) before instrumenting; committed extra inputs are added.
dotnet "$out/bin/MobileNetGen.Fuzz.dll" seeds "$target" "$out/corpus"
if [ -d "$here/corpus/$target" ]; then cp "$here/corpus/$target"/* "$out/corpus/"; fi
# An uninstrumented copy for replaying findings (instrumented assemblies abort outside afl-fuzz).
rm -rf "$out/replay" && cp -r "$out/bin" "$out/replay"
for lib in $libs; do sharpfuzz "$out/bin/$lib.dll"; done

dict=()
case $target in tfjs|weights) dict=(-x "$here/dict/json.dict") ;; esac
if [ -d "$out/findings/default/queue" ]; then input=-; else input="$out/corpus"; fi  # '-' resumes a previous run
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
# A 4 GiB managed heap: an input that makes a parser allocate more becomes an OutOfMemoryException, i.e. a crash.
export DOTNET_GCHeapHardLimit=0x100000000 MNG_FUZZ_NOTES="$out/notes"
afl-fuzz -i "$input" -o "$out/findings" -t 10000 -m none -V $((minutes * 60)) "${dict[@]}" \
  -- dotnet "$out/bin/MobileNetGen.Fuzz.dll" afl "$target" > "$out/afl.log" 2>&1 || { tail -30 "$out/afl.log" >&2; exit 1; }

stats="$out/findings/default/fuzzer_stats"
echo "== $target: $(grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs)' "$stats" | tr -s ' ' | tr '\n' ' ')"
crashes=$(find "$out/findings/default/crashes" -type f -name 'id:*' | wc -l)
hangs=$(find "$out/findings/default/hangs" -type f -name 'id:*' | wc -l)
echo "== crashes: $crashes, hangs: $hangs (replay: dotnet $out/replay/MobileNetGen.Fuzz.dll replay $target $out/findings/default/crashes)"
