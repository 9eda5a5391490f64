/* SPDX-License-Identifier: MIT */
/*
 * The mock's containers: a key → pointer table (linear probing with backward-shift deletion, so
 * there are no tombstones and a lookup stays short however much churn a benchmark drives through
 * the mock) and the growth of its plain arrays.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mock_state.h"

static uint64_t map_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static uint32_t map_slot(const struct mock_map *map, uint64_t key)
{
	uint32_t mask = map->cap - 1;
	uint32_t i = (uint32_t)map_hash(key) & mask;

	while (map->keys[i] != 0 && map->keys[i] != key) {
		i = (i + 1) & mask;
	}
	return i;
}

int vgalloc__mock_map_reserve(struct mock_map *map, uint32_t extra)
{
	uint64_t need = (uint64_t)map->count + extra;
	uint64_t cap = map->cap ? map->cap : 16;
	struct mock_map grown = { 0 };

	if (need * 2 <= map->cap) {
		return 0;
	}
	while (need * 2 > cap) {
		cap *= 2;
	}
	if (cap > (1ull << 31)) {
		return -ENOMEM;
	}
	grown.cap = (uint32_t)cap;
	grown.keys = calloc(cap, sizeof(*grown.keys));
	grown.vals = calloc(cap, sizeof(*grown.vals));
	if (!grown.keys || !grown.vals) {
		free(grown.keys);
		free(grown.vals);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < map->cap; i++) {
		if (map->keys[i] != 0) {
			vgalloc__mock_map_put(&grown, map->keys[i], map->vals[i]);
		}
	}
	free(map->keys);
	free(map->vals);
	*map = grown;
	return 0;
}

void *vgalloc__mock_map_get(const struct mock_map *map, uint64_t key)
{
	uint32_t i;

	if (map->cap == 0 || key == 0) {
		return NULL;
	}
	i = map_slot(map, key);
	return map->keys[i] == key ? map->vals[i] : NULL;
}

void vgalloc__mock_map_put(struct mock_map *map, uint64_t key, void *val)
{
	uint32_t i = map_slot(map, key);

	if (map->keys[i] != key) {
		map->keys[i] = key;
		map->count++;
	}
	map->vals[i] = val;
}

void vgalloc__mock_map_del(struct mock_map *map, uint64_t key)
{
	uint32_t mask, i, j;

	if (map->cap == 0 || key == 0) {
		return;
	}
	mask = map->cap - 1;
	i = map_slot(map, key);
	if (map->keys[i] != key) {
		return;
	}
	/* Pull later entries of the probe run back so that no lookup stops at the hole. */
	j = i;
	for (;;) {
		uint32_t k;

		j = (j + 1) & mask;
		if (map->keys[j] == 0) {
			break;
		}
		k = (uint32_t)map_hash(map->keys[j]) & mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) {
			continue;
		}
		map->keys[i] = map->keys[j];
		map->vals[i] = map->vals[j];
		i = j;
	}
	map->keys[i] = 0;
	map->vals[i] = NULL;
	map->count--;
}

void vgalloc__mock_map_fini(struct mock_map *map)
{
	free(map->keys);
	free(map->vals);
	memset(map, 0, sizeof(*map));
}

void *vgalloc__mock_grow(void *array, uint32_t *cap, uint32_t need, size_t elem, uint32_t first)
{
	uint32_t n = *cap ? *cap : first;
	void *grown;

	if (*cap >= need) {
		return array;
	}
	while (n < need) {
		n *= 2;
	}
	grown = realloc(array, (size_t)n * elem);
	if (grown) {
		*cap = n;
	}
	return grown;
}
