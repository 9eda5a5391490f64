# SPDX-License-Identifier: MIT
#
# The VM tier as one ctest test: label vm (CI legs run `ctest -LE vm`, one leg `-L vm`), run
# serially, exit 77 read as a skip. Include it from the tests block of the top-level
# CMakeLists.txt: include(tests/vm/vm.cmake). Set VGALLOC_VM_REQUIRED=1 where a skip must fail.

add_test(NAME vm_guest
	COMMAND bash "${PROJECT_SOURCE_DIR}/tests/vm/run-vm.sh" "${PROJECT_BINARY_DIR}")
# First run: ~2 min of rig build; then up to 3 boots of <= 120 s each.
set_tests_properties(vm_guest PROPERTIES
	LABELS vm
	RUN_SERIAL TRUE
	SKIP_RETURN_CODE 77
	TIMEOUT 1200)
