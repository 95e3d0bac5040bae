#!/usr/bin/env bash
# Regenerate python/yard/yard_pb2.py from proto/yard.proto (needs protoc,
# Debian's protobuf-compiler).  The test suite fails while they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
protoc --python_out=python/yard -Iproto proto/yard.proto
