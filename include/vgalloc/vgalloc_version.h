/* SPDX-License-Identifier: MIT */
/*
 * The library's version, checked in so that CMake, meson and Soong read one file and nothing is
 * generated. CMake parses the three VGALLOC_VERSION_* lines below; keep their shape.
 */
#ifndef VGALLOC_VERSION_H
#define VGALLOC_VERSION_H

#define VGALLOC_VERSION_MAJOR 0
#define VGALLOC_VERSION_MINOR 2
#define VGALLOC_VERSION_PATCH 0

#define VGALLOC_VERSION \
	((VGALLOC_VERSION_MAJOR << 22) | (VGALLOC_VERSION_MINOR << 12) | VGALLOC_VERSION_PATCH)

#endif
