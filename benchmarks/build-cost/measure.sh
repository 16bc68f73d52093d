#!/usr/bin/env bash
# Build cost of the generator inside an app's build (the speed issue's "Build cost" section).
#
#   bash benchmarks/build-cost/measure.sh [one|all|both]
#
# Creates throw-away apps under ${TMPDIR:-/tmp}/mobilenetgen-build-cost that use this repository the way an app does
# (generator props/targets, runtime project, generator as analyzer, weights items):
#   one: one classifier, 1.0_224 (synthetic weights: no published 1.0 weights exist here), declared by MSBuild properties
#   all: all 16 variants (12 genuine weights files + four synthetic 1.0), one [MobileNet] class each
# and reports for each: the clean build (wall time and peak resident memory of the whole build, compiler included:
# UseSharedCompilation=false runs csc in its own process, which GNU time's maximum RSS covers), a no-change rebuild, and
# a rebuild after editing an unrelated source file. The runtime and generator are built once beforehand, so that the
# figures are the app's own.
#
# MNG_SHARED_COMPILER=1 measures instead what a developer's builds do by default: the compiler server (VBCSCompiler)
# stays warm between builds (its memory is then outside GNU time's figure; the clean build warms it up).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
which=${1:-both}
root=${TMPDIR:-/tmp}/mobilenetgen-build-cost
rm -rf "$root"; mkdir -p "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build-server shutdown >/dev/null 2>&1 || true
shared=false; [ "${MNG_SHARED_COMPILER:-}" = "1" ] && shared=true
dotnet build "$repo/runtime/MobileNetGen.Runtime" -c Release -nologo -clp:ErrorsOnly >/dev/null
dotnet build "$repo/generator/MobileNetGen.Generator" -c Release -nologo -clp:ErrorsOnly >/dev/null

write_app() { # name, extra properties, extra items, program
  local dir="$root/$1"; mkdir -p "$dir"
  cat > "$dir/$1.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <Import Project="$repo/generator/MobileNetGen.Generator/build/MobileNetGen.props" />
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <RootNamespace>CostApp</RootNamespace>
    <UseSharedCompilation>$shared</UseSharedCompilation>
    $2
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$repo/runtime/MobileNetGen.Runtime/MobileNetGen.Runtime.csproj" />
    <ProjectReference Include="$repo/generator/MobileNetGen.Generator/MobileNetGen.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
    $3
  </ItemGroup>
  <Import Project="$repo/generator/MobileNetGen.Generator/build/MobileNetGen.targets" />
</Project>
XML
  printf '%s\n' "$4" > "$dir/Program.cs"
  printf 'namespace CostApp;\npublic static class Unrelated { public static int Value => 1; }\n' > "$dir/Unrelated.cs"
}

measure() { # label, dir, args...
  local label=$1 dir=$2; shift 2
  local log="$root/$label.time"
  /usr/bin/time -v -o "$log" dotnet build "$dir" -c Release -nologo -clp:ErrorsOnly -nodeReuse:false "$@" >/dev/null
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')
  printf '%-34s wall %8s   peak RSS %6.2f GB\n' "$label" "$wall" "$(echo "$rss / 1048576" | bc -l)"
}

run() { # name
  local dir="$root/$1"
  dotnet restore "$dir" >/dev/null
  measure "$1: clean build" "$dir" --no-restore
  measure "$1: no-change rebuild" "$dir" --no-restore
  printf 'namespace CostApp;\npublic static class Unrelated { public static int Value => 2; }\n' > "$dir/Unrelated.cs"
  measure "$1: rebuild after unrelated edit" "$dir" --no-restore
}

echo "machine: $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GB, load $(cut -d' ' -f1-3 /proc/loadavg); dotnet $(dotnet --version)"

if [ "$which" = one ] || [ "$which" = both ]; then
  write_app one "<MobileNetVariant>1.0_224</MobileNetVariant><MobileNetSynthetic>true</MobileNetSynthetic>" "" \
    'using var m = new CostApp.MobileNetModel(); Console.WriteLine(m.Info.Variant);'
  run one
fi
if [ "$which" = all ] || [ "$which" = both ]; then
  items=""; classes=""
  for a in 0.25 0.50 0.75; do for r in 224 192 160 128; do
    items="$items<MobileNetWeights Include=\"$repo/weights/mobilenet_v1_${a}_${r}.safetensors\" />"
    classes="$classes[MobileNet(\"${a}_${r}\")] public partial class M${a/./_}_${r} { }"$'\n'
  done; done
  for r in 224 192 160 128; do classes="$classes[MobileNet(\"1.0_${r}\", Synthetic = true)] public partial class M1_0_${r} { }"$'\n'; done
  write_app all "" "$items" "using MobileNetGen;
Console.WriteLine(new CostApp.M0_25_128().Info.Variant);
namespace CostApp
{
$classes}"
  run all
fi
