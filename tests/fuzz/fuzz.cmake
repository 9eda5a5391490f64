# SPDX-License-Identifier: MIT
#
# The libFuzzer targets of tests/fuzz/ as ctest tests (label "fuzz"), for the top-level tests
# block to include(). run.sh builds them with clang (ASan + UBSan, whatever compiler the project
# itself uses) in the fixture test fuzz_build; then each fuzz_<target> test replays the target's
# saved regression inputs and fuzzes it for VGALLOC_FUZZ_SECONDS on its corpus, failing on any
# crash, leak or UBSan report. Corpora and artifacts stay in ${PROJECT_BINARY_DIR}/fuzz.
#
# VGALLOC_FUZZ_SECONDS (cache, default: the environment's VGALLOC_FUZZ_SECONDS at configure
# time, else 10) sizes the runs and their timeouts; VGALLOC_FUZZ_SECONDS in the environment of a
# later ctest run overrides the duration (with a larger value, pass ctest --timeout too).
# Not registered without clang or bash, or with -DVGALLOC_FUZZ_TESTS=OFF.

option(VGALLOC_FUZZ_TESTS "Register the fuzzers (tests/fuzz) as ctest tests when clang is found" ON)
if(DEFINED ENV{VGALLOC_FUZZ_SECONDS})
	set(_vgalloc_fuzz_default "$ENV{VGALLOC_FUZZ_SECONDS}")
else()
	set(_vgalloc_fuzz_default 10)
endif()
set(VGALLOC_FUZZ_SECONDS "${_vgalloc_fuzz_default}" CACHE STRING
	"Seconds each fuzzer runs in ctest (label fuzz)")
find_program(VGALLOC_FUZZ_CLANG NAMES clang clang-14 DOC "clang with libFuzzer, for tests/fuzz")
find_program(VGALLOC_FUZZ_BASH NAMES bash DOC "bash, for tests/fuzz/run.sh")

if(NOT VGALLOC_FUZZ_TESTS)
	return()
endif()
if(NOT VGALLOC_FUZZ_CLANG OR NOT VGALLOC_FUZZ_BASH)
	message(STATUS "vgalloc: no clang (or bash): the fuzz tests are not registered")
	return()
endif()
if(NOT VGALLOC_FUZZ_SECONDS MATCHES "^[0-9]+$")
	message(FATAL_ERROR "VGALLOC_FUZZ_SECONDS='${VGALLOC_FUZZ_SECONDS}' is no number of seconds")
endif()

set(_vgalloc_fuzz_run "${CMAKE_CURRENT_LIST_DIR}/run.sh")
set(_vgalloc_fuzz_out "${PROJECT_BINARY_DIR}/fuzz")
# Start-up, the regression replay and the final statistics take far less than this.
math(EXPR _vgalloc_fuzz_timeout "${VGALLOC_FUZZ_SECONDS} + 240")

add_test(NAME fuzz_build
	COMMAND "${VGALLOC_FUZZ_BASH}" "${_vgalloc_fuzz_run}" 0 "${_vgalloc_fuzz_out}")
set_tests_properties(fuzz_build PROPERTIES
	LABELS fuzz
	TIMEOUT 1200
	FIXTURES_SETUP vgalloc_fuzz
	ENVIRONMENT "CC=${VGALLOC_FUZZ_CLANG};VGALLOC_FUZZ_BUILD_ONLY=1")

file(GLOB _vgalloc_fuzz_sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/fuzz_*.c")
foreach(_src IN LISTS _vgalloc_fuzz_sources)
	get_filename_component(_name "${_src}" NAME_WE)
	# "-": run.sh takes the duration from the environment, else VGALLOC_FUZZ_DEFAULT_SECONDS.
	add_test(NAME ${_name}
		COMMAND "${VGALLOC_FUZZ_BASH}" "${_vgalloc_fuzz_run}" - "${_vgalloc_fuzz_out}"
			${_name})
	set_tests_properties(${_name} PROPERTIES
		LABELS fuzz
		TIMEOUT ${_vgalloc_fuzz_timeout}
		FIXTURES_REQUIRED vgalloc_fuzz
		ENVIRONMENT "CC=${VGALLOC_FUZZ_CLANG};VGALLOC_FUZZ_SKIP_BUILD=1")
	set_property(TEST ${_name} APPEND PROPERTY
		ENVIRONMENT "VGALLOC_FUZZ_DEFAULT_SECONDS=${VGALLOC_FUZZ_SECONDS}")
endforeach()
