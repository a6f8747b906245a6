#!/bin/sh
# Installs the build into a temporary prefix (copies only: nothing is compiled again), then builds
# and runs examples/cpp with find_package(otlpd) and examples/c with pkg-config against it.
# Usage: install_examples.sh <build dir> <source dir> <work dir>
set -eu
build=$1
src=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/otlpd/collector.h include/otlpd/otlpd.h lib/libotlpd.so lib/libotlpd.a \
         lib/cmake/otlpd/otlpdConfig.cmake lib/pkgconfig/otlpd.pc bin/otlpd; do
  test -e "$prefix/$f" || { echo "not installed: $f"; exit 1; }
done

echo "== C++ example (find_package)"
cmake -S "$src/examples/cpp" -B "$work/cpp" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$work/cpp-configure.log" || { cat "$work/cpp-configure.log"; exit 1; }
cmake --build "$work/cpp"
"$work/cpp/otlpd_example_cpp" "$work/store-cpp"

echo "== C example (pkg-config)"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror "$src/examples/c/main.c" -o "$work/example_c" \
  $(pkg-config --cflags --libs otlpd) -Wl,-rpath,"$prefix/lib"
"$work/example_c" "$work/store-c"
echo "install + examples: 2 passed, 0 failed"
