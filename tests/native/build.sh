#!/usr/bin/env bash
# Builds the C test of libmobilenet against the shared or the static library, with gcc (or $CC).
#
#   tests/native/build.sh shared LIBDIR OUT   # LIBDIR holds libmobilenet.so  (publish -p:NativeLib=Shared)
#   tests/native/build.sh static LIBDIR OUT   # LIBDIR holds libmobilenet.a   (publish -p:NativeLib=Static)
#
# Cross-compiling (README, "ARM64 / mobile"): CC="clang --target=aarch64-linux-gnu -fuse-ld=lld" with a linux-arm64
# publish as LIBDIR; LDFLAGS adds linker flags.
#
# The static link line is the one docs/native.md documents: NativeAOT's static library holds only the compiled managed
# code; the runtime (GC, bootstrapper, System.Native shims) comes from the NativeAOT runtime pack
# (microsoft.netcore.app.runtime.nativeaot.<rid> in the NuGet cache), which the publish copies to LIBDIR/runtime/.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:?usage: build.sh shared|static LIBDIR OUT}
libdir=$(cd "${2:?LIBDIR}" && pwd)
out=${3:?OUT}
CC=${CC:-gcc}
CFLAGS=${CFLAGS:--O2 -Wall -Wextra -std=c11 -D_POSIX_C_SOURCE=200809L}
LDFLAGS=${LDFLAGS:-}
inc=runtime/MobileNetGen.Native/include

case "$mode" in
  shared)
    set -x
    $CC $CFLAGS -I"$inc" tests/native/mobilenet_test.c -o "$out" \
        -L"$libdir" -lmobilenet -Wl,-rpath,"$libdir" $LDFLAGS -lpthread -lm
    ;;
  static)
    # The runtime archives: copied next to libmobilenet.a by the publish (LIBDIR/runtime/).
    A=${AOT_NATIVE_DIR:-$libdir/runtime}
    if [ ! -f "$A/libRuntime.WorkstationGC.a" ]; then
      echo "NativeAOT runtime archives not found in '$A'" >&2; exit 1
    fi
    # libRuntime.VxsortDisabled.a exists for x64 only (vxsort is the GC's AVX2/AVX-512 sort).
    vxsort=""; [ -f "$A/libRuntime.VxsortDisabled.a" ] && vxsort="$A/libRuntime.VxsortDisabled.a"
    set -x
    $CC $CFLAGS -I"$inc" tests/native/mobilenet_test.c -o "$out" \
        "$libdir/libmobilenet.a" \
        "$A/libSystem.Native.a" \
        "$A/libSystem.IO.Compression.Native.a" \
        "$A/libbootstrapperdll.o" \
        "$A/libRuntime.WorkstationGC.a" \
        "$A/libeventpipe-disabled.a" \
        $vxsort \
        "$A/libstandalonegc-disabled.a" \
        "$A/libaotminipal.a" \
        "$A/libstdc++compat.a" \
        "$A/libz.a" \
        "$A/libbrotlienc.a" "$A/libbrotlidec.a" "$A/libbrotlicommon.a" \
        $LDFLAGS -pthread -ldl -lrt -lm
    ;;
  *) echo "usage: build.sh shared|static LIBDIR OUT" >&2; exit 2 ;;
esac
