#!/bin/bash -eu
# ClusterFuzzLite entry point: the project's OSS-Fuzz build script.
SRC_DIR=$SRC/refhammer WORK=$WORK/refhammer-build "$SRC/refhammer/ci/oss-fuzz/build.sh"
