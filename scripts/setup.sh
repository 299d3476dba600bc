#!/usr/bin/env bash
# Sets up aimcsim on Debian 12: installs the Debian packages it needs (as root, or through sudo),
# configures and builds into build/. Idempotent: a second run installs nothing and rebuilds only
# what changed. Usage: bash scripts/setup.sh [--no-tests]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config      # toolchain
  libsystemc-dev                        # SystemC 2.3.4 kernel
  libyaml-cpp-dev                       # chip descriptions
  libspdlog-dev libfmt-dev              # logging and formatting
  libboost-dev                          # Boost headers
  nlohmann-json3-dev                    # JSON reports
  librandom123-dev                      # counter-based random numbers
  zlib1g-dev                            # gzip-compressed IDX data sets
  dataset-fashion-mnist                 # Fashion-MNIST (IDX) in /usr/share/datasets/fashion-mnist
  catch2                                # unit tests (v2)
  python3 python3-numpy python3-yaml    # scripts (workload generators, sweeps)
  python3-matplotlib                    # sweep and interconnect plots
  slurmctld slurmd slurm-client munge   # a one-node Slurm on localhost for sweeps (scripts/slurm_local.sh);
                                        # installed without starting daemons, see below
  clang libclang-rt-14-dev              # fuzzing (scripts/fuzz.sh): libFuzzer, ASan and UBSan runtimes
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  # Daemon packages (munge, slurmd, slurmctld) start their system services on install through
  # invoke-rc.d where no policy forbids it. Forbid it for this install when no policy exists (as in
  # Debian's Docker images, which ship one): scripts/slurm_local.sh runs its own daemons.
  POLICY=/usr/sbin/policy-rc.d
  if [ ! -e "$POLICY" ]; then
    trap '$SUDO rm -f "$POLICY"' EXIT
    printf '#!/bin/sh\n# Temporary, from aimcsim scripts/setup.sh: start no services.\nexit 101\n' \
      | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
  fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  if [ "$(trap -p EXIT)" ]; then $SUDO rm -f "$POLICY"; trap - EXIT; fi
fi

TESTS=ON
if [ "${1:-}" = "--no-tests" ]; then TESTS=OFF; fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAIMC_BUILD_TESTS=$TESTS >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/aimcsim"
