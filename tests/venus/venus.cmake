# SPDX-License-Identifier: MIT
#
# The Venus tiers (tests/venus/README.md): Mesa's Venus driver, stock and patched to link this
# library, running our Vulkan programs in the QEMU guest. They boot QEMU, so they carry the vm
# label too (the `ctest -LE vm` legs skip them); the README's test command runs them, and CI
# requires them.
#  - venus_tier: QEMU as packaged, a host that injects host memory (host-first).
#  - venus_guest_first_tier: QEMU made a static-mapping host by tests/venus/host/static-host.c,
#    so Venus allocates guest-first; the same preload passing through gives the host-first
#    baseline of the same run.
add_test(NAME venus_tier
	COMMAND bash "${PROJECT_SOURCE_DIR}/tests/venus/tier.sh" "${PROJECT_BINARY_DIR}" inject)
set_tests_properties(venus_tier PROPERTIES
	LABELS "venus;vm"
	RUN_SERIAL TRUE
	SKIP_RETURN_CODE 77
	TIMEOUT 3600)
add_test(NAME venus_guest_first_tier
	COMMAND bash "${PROJECT_SOURCE_DIR}/tests/venus/tier.sh" "${PROJECT_BINARY_DIR}" guest-first)
set_tests_properties(venus_guest_first_tier PROPERTIES
	LABELS "venus-guest-first;vm"
	RUN_SERIAL TRUE
	SKIP_RETURN_CODE 77
	TIMEOUT 3600)
