# SPDX-License-Identifier: MIT
#
# The cmocka tests, by tier: one executable and one ctest test per tests/<tier>/test_*.c, named
# after the file (test_pool, ...), labelled with its tier, built into ${PROJECT_BINARY_DIR}/tests/
# <tier>. Every test file includes tests/harness.h (a mock guest and a leak-checking teardown).
#
#   unit     pure functions: the suballocator, the policy engine, capset parsing
#   api      the public API (vgalloc.h, vgalloc_vulkan.h) over the mock backend
#   backend  the virtgpu backend against a fake kernel at its ioctl seam
#   mock     the mock backend's own rules (vgalloc_mock.h)
#   errors   docs/errors.md, row by row: one file per section of it, and the check that every row,
#            case and public function is accounted for (tests/errors/errors_doc.h)
#   stress   threads racing on one device, and fault injection into every failable call
#
# A tier's other *.c files (not test_*) are support code linked into each of its tests. CI legs
# select tiers by label (scripts/ci-matrix.sh) and `ctest -L` matches a regular expression, so no
# label contains another tier's name (no "unit" outside the unit tier). Include from the tests
# block of the top-level CMakeLists.txt: include(tests/tests.cmake).

include_guard(GLOBAL)

# The settings every test target and its tier's support code share: C11, the private headers of
# lib/, the fixtures directory, both static libraries, cmocka, threads and the warnings.
function(_vgalloc_test_target target)
	set_target_properties(${target} PROPERTIES
		C_STANDARD 11
		C_STANDARD_REQUIRED ON
		C_EXTENSIONS OFF)
	target_compile_definitions(${target} PRIVATE ${VGALLOC_GNU_SOURCE}
		VGALLOC_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures/capsets")
	# Tests may use the private headers in lib/.
	target_include_directories(${target} PRIVATE
		"${PROJECT_SOURCE_DIR}/include" "${PROJECT_SOURCE_DIR}/lib")
	target_link_libraries(${target} PRIVATE
		vgalloc-mock_static vgalloc_static PkgConfig::CMOCKA Threads::Threads)
	vgalloc_target_warnings(${target})
endfunction()

# vgalloc_test_tier(TIER LABEL): the tests of tests/<TIER>/, each with ctest label LABEL.
function(vgalloc_test_tier TIER LABEL)
	set(_dir "${PROJECT_SOURCE_DIR}/tests/${TIER}")
	file(GLOB _tests CONFIGURE_DEPENDS "${_dir}/test_*.c")
	file(GLOB _support CONFIGURE_DEPENDS "${_dir}/*.c")
	if(_tests)
		list(REMOVE_ITEM _support ${_tests})
	else()
		message(FATAL_ERROR "vgalloc_test_tier: no tests/${TIER}/test_*.c")
	endif()
	if(_support)
		add_library(vgalloc_test_${TIER}_support OBJECT ${_support})
		_vgalloc_test_target(vgalloc_test_${TIER}_support)
	endif()

	foreach(_src IN LISTS _tests)
		get_filename_component(_name "${_src}" NAME_WE)
		add_executable(${_name} "${_src}")
		_vgalloc_test_target(${_name})
		set_target_properties(${_name} PROPERTIES
			RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests/${TIER}")
		if(_support)
			target_link_libraries(${_name} PRIVATE vgalloc_test_${TIER}_support)
		endif()
		add_test(NAME ${_name} COMMAND ${_name})
		set_tests_properties(${_name} PROPERTIES LABELS "${LABEL}" TIMEOUT 300)
		# ctest passes its own environment through anyway; a value present at configure time
		# is recorded so that a bare `ctest` later runs at the same scale.
		if(DEFINED ENV{VGALLOC_TEST_SCALE})
			set_property(TEST ${_name} APPEND PROPERTY
				ENVIRONMENT "VGALLOC_TEST_SCALE=$ENV{VGALLOC_TEST_SCALE}")
		endif()
	endforeach()
endfunction()

vgalloc_test_tier(unit unit)
vgalloc_test_tier(api api)
vgalloc_test_tier(backend backend)
vgalloc_test_tier(mock mock)
vgalloc_test_tier(errors errors)
vgalloc_test_tier(stress stress)
