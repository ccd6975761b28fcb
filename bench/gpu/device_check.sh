#!/usr/bin/env bash
# device_check.sh: the GPU checks of issue 19, in two halves.
#
#   bench/gpu/device_check.sh build   # here, no GPU needed: CGO_ENABLED=0 test binaries into bench/gpu/bin
#   bench/gpu/device_check.sh run     # on the device machine: nothing is built there
#
# The device machine is lent by the minute, so everything is compiled here
# and carried: run the build half, then hand the run half to the device tool
# with carry ["bench/gpu/bin"] (the binaries are *.test, ignored by git) and
# a timeout that leaves room for a rerun, e.g.
#   run(command="bench/gpu/device_check.sh run", carry=["bench/gpu/bin"], timeout_s=300)
# The run half prints the GPU (nvidia-smi), where the CUDA libraries are
# (driver, cuBLAS, NVRTC: system paths and pip's nvidia wheels), then runs
# the GPU tests with -gpu, which turns a missing GPU into a failure rather
# than a skip. Logs go to $OUT when set (the device tool fetches it).
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=bench/gpu/bin

case "${1:-}" in
build)
	set -e
	mkdir -p "$bin"
	CGO_ENABLED=0 go test -c -o "$bin/cuda.test" ./internal/cuda
	CGO_ENABLED=0 go test -c -o "$bin/kernelsrc.test" ./internal/cuda/kernelsrc
	ls -l "$bin"
	;;
run)
	out="${OUT:-/tmp/kiln-device-check}"
	mkdir -p "$out"
	exec > >(tee "$out/device_check.log") 2>&1
	echo "== $(date -u +%FT%TZ) $(hostname) $(uname -r)"
	echo "== nvidia-smi"
	nvidia-smi || echo "nvidia-smi failed (rc $?)"
	nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv || true
	echo "== CUDA libraries the system loader knows"
	ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|libnvrtc|libcublas' || echo "(none in ld.so.cache)"
	echo "== pip's nvidia wheels"
	for sp in $(python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null); do
		ls -d "$sp"/nvidia/*/lib 2>/dev/null
	done
	python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>/dev/null || true
	rc=0
	echo "== kernelsrc (assembly, no GPU)"
	timeout 60 "$bin/kernelsrc.test" -test.count=1 || rc=1
	echo "== cuda unit tests (loader, errors, allocator, executor)"
	timeout 60 "$bin/cuda.test" -test.count=1 -test.run 'Search|Find|Open|Version|Error|Tables|Alloc|SizeClass|Executor|ArgBits|Grid|ImageCache' || rc=1
	echo "== loading on this machine (expected to find every library; a skip here means it did)"
	timeout 60 "$bin/cuda.test" -test.count=1 -test.v -test.run 'LoadFailsCleanly|CompileWithoutNVRTC' || rc=1
	echo "== GPU tests (-gpu: no GPU is a failure)"
	timeout 240 "$bin/cuda.test" -test.count=1 -test.v -test.run 'GPU' -gpu || rc=1
	echo "== nvidia-smi after"
	nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv || true
	echo "== device_check rc=$rc"
	exit $rc
	;;
*)
	echo "usage: $0 build|run" >&2
	exit 2
	;;
esac
