/* SPDX-License-Identifier: MIT */
/*
 * The one place that reads the environment. Overrides apply only when the consumer sets
 * VGALLOC_DEVICE_ALLOW_ENV, and they are read with secure_getenv so a setuid process ignores them.
 */
#include <stdlib.h>
#include <string.h>

#include "state.h"

static uint32_t parse_level(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (uint32_t i = 0; i < VGALLOC__ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			return i + 1;
		}
	}
	if (s[0] >= '1' && s[0] <= '4' && !s[1]) {
		return (uint32_t)(s[0] - '0');
	}
	return 0;
}

void vgalloc__env_read(struct vgalloc__env *env)
{
	const char *s;

	memset(env, 0, sizeof(*env));
	s = secure_getenv("VGALLOC_ALLOC_MODE");
	if (s && !strcmp(s, "host")) {
		env->alloc_mode = VGALLOC_ALLOC_MODE_HOST_FIRST;
	} else if (s && !strcmp(s, "guest")) {
		env->alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST;
	}
	s = secure_getenv("VGALLOC_NO_SUBALLOC");
	env->no_suballoc = s && strcmp(s, "0") != 0;
	s = secure_getenv("VGALLOC_DEBUG");
	if (s) {
		env->log_level = parse_level(s);
	}
}
