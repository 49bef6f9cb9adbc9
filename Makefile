# Tunebook. `make demo` and `make test` each do their own setup on a fresh Debian 12 machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CONFIG        ?= Release
DOTNET        ?= dotnet
NATIVE_BUILD  := build/native
NATIVE_LIB    := $(NATIVE_BUILD)/libtunebook_torch.so
# The kernelspec goes under build/ so tests never touch the user's own Jupyter setup.
JUPYTER_PREFIX := $(CURDIR)/build/jupyter
export JUPYTER_PATH := $(JUPYTER_PREFIX)/share/jupyter$(if $(JUPYTER_PATH),:$(JUPYTER_PATH))
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export GLOG_minloglevel := 2

.PHONY: help setup setup-test native build kernel pack test demo bench reliability gpu-bundle clean

help:
	@echo "make demo   fine-tune the built-in starter model in notebook 01, headless"
	@echo "make test   run every test (unit, parity, kernel conformance, notebooks)"
	@echo "make bench  run the benchmarks (JSON lines + table)"
	@echo "make pack   the NuGet packages (Tunebook.Torch with the native shim, Text, Models, Tuning, Interactive, Notebook, Interactive.DotNet) into build/packages"
	@echo "make gpu-bundle  build/gpu-bundle.tar.xz for scripts/gpu-check.sh on a GPU machine without .NET (docs/gpu.md)"
	@echo "make reliability  the full reliability counts of docs/reliability.md (make test runs a reduced set)"

setup:
	@scripts/setup-deps.sh runtime

setup-test:
	@scripts/setup-deps.sh test
	@scripts/setup-reference.sh

# The C-ABI shim over libtorch. TORCH_PREFIX selects another libtorch (for example a CUDA build inside
# a PyTorch install: TORCH_PREFIX=$$(python -c 'import torch; print(torch.utils.cmake_prefix_path)')).
native: $(NATIVE_LIB)
$(NATIVE_LIB): $(wildcard src/Tunebook.Torch/native/*.cpp src/Tunebook.Torch/native/*.h src/Tunebook.Torch/native/CMakeLists.txt)
	@cmake -S src/Tunebook.Torch/native -B $(NATIVE_BUILD) -DCMAKE_BUILD_TYPE=Release $(if $(TORCH_PREFIX),-DCMAKE_PREFIX_PATH=$(TORCH_PREFIX)) >/dev/null
	@cmake --build $(NATIVE_BUILD) -j 2
	@touch $(NATIVE_LIB)

build: native
	@$(DOTNET) build Notebooks.sln -c $(CONFIG) -v quiet -nologo -clp:ErrorsOnly

kernel: build
	@./tunebook kernel install --prefix $(JUPYTER_PREFIX) >/dev/null

# Every project with IsPackable=true, with symbols (.snupkg) and source link (docs/packages.md). The
# repository URL comes from git's origin remote; REPOSITORY_URL=... sets it where there is none.
pack: build
	@rm -rf build/packages
	@$(DOTNET) pack Notebooks.sln -c $(CONFIG) --no-build -o build/packages -v quiet -nologo -clp:ErrorsOnly $(if $(REPOSITORY_URL),-p:RepositoryUrl=$(REPOSITORY_URL))

test: setup setup-test kernel
	@scripts/run-tests.sh

demo: setup kernel
	@scripts/demo.sh

bench: setup setup-test build
	@scripts/bench.sh

# What scripts/gpu-check.sh needs on a GPU machine with PyTorch and no .NET (docs/gpu.md).
gpu-bundle: native
	@scripts/gpu/make-bundle.sh

reliability: setup setup-test kernel
	@scripts/reliability.sh FULL

clean:
	rm -rf build
	$(DOTNET) clean Notebooks.sln -v quiet
