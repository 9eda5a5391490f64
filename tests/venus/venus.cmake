# SPDX-License-Identifier: MIT
#
# The Venus tier (tests/venus/README.md): Mesa's Venus driver, stock and patched to link this
# library, running our Vulkan programs in the QEMU guest. It boots QEMU, so it carries the vm label
# too (the `ctest -LE vm` legs skip it); the README's test command runs it, and CI requires it.
add_test(NAME venus_tier
	COMMAND bash "${PROJECT_SOURCE_DIR}/tests/venus/tier.sh" "${PROJECT_BINARY_DIR}")
set_tests_properties(venus_tier PROPERTIES
	LABELS "venus;vm"
	RUN_SERIAL TRUE
	SKIP_RETURN_CODE 77
	TIMEOUT 3600)
