# SPDX-License-Identifier: MIT
#
# The gfxstream series (integrations/gfxstream), label gfxstream:
#  - test_gfxstream_glue (CMakeLists.txt): the glue built outside Mesa, driven on the mock;
#  - gfxstream_glue_in_series: the glue the patches add to Mesa is that same code;
#  - gfxstream_build: Mesa's gfxstream Vulkan driver built with the series and libvgalloc as its
#    subproject in the trixie build root, exported and hidden symbols checked (cached, keyed by
#    Mesa version, series and library sources). It needs root and the VM rig, so it also carries
#    the vm label: the host legs (`ctest -LE vm`) skip it, the README's test command runs it.
add_test(NAME gfxstream_glue_in_series
	COMMAND bash "${PROJECT_SOURCE_DIR}/tests/gfxstream/glue-in-series.sh")
set_tests_properties(gfxstream_glue_in_series PROPERTIES LABELS gfxstream TIMEOUT 60)
add_test(NAME gfxstream_build
	COMMAND ${CMAKE_COMMAND} -E env VGALLOC_MESA_DRIVER=gfxstream
		bash "${PROJECT_SOURCE_DIR}/tests/venus/build-mesa.sh")
set_tests_properties(gfxstream_build PROPERTIES
	LABELS "gfxstream;vm"
	RUN_SERIAL TRUE
	SKIP_RETURN_CODE 77
	TIMEOUT 3600)
