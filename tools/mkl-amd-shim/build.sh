#!/bin/sh
# Builds libmkl_intel_cpu_true.so next to this script (needs a C compiler: Debian's gcc). See mkl_intel_cpu_true.c.
set -e
dir=$(dirname "$0")
${CC:-cc} -O2 -shared -fPIC -o "$dir/libmkl_intel_cpu_true.so" "$dir/mkl_intel_cpu_true.c"
echo "$dir/libmkl_intel_cpu_true.so"
