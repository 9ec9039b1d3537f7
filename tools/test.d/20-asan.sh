# The same tests under AddressSanitizer + UBSan, with generic x86-64 flags so
# the kernels are reached through runtime dispatch.
run_config asan -- -DCMAKE_BUILD_TYPE=Debug "-DMAAS_SANITIZE=address;undefined" -DMAAS_WERROR=ON
