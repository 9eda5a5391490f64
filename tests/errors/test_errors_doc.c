/* SPDX-License-Identifier: MIT */
/*
 * docs/errors.md as a whole, checked: it parses (case rows well formed, no id twice); every row
 * falls in exactly one section of errcase.c's table, and every section has rows and its file,
 * tests/errors/test_errors_<section>.c, which proves those rows (each row a case there, or a
 * PROVEN_BY naming the test that makes that call, and each case a row); every public function has
 * a row and every row names a public function. Together: every row has its test.
 * Covers: docs/errors.md against every function declared VGALLOC_API in the public headers.
 */
#include "errcase.h"

static void errors_doc__parses(void **state)
{
	(void)state;
	if (doc.error[0]) {
		fail_msg("%s", doc.error);
	}
	assert_true(doc.count > 0);
	for (size_t i = 0; i < doc.count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(doc.rows[i].id, doc.rows[j].id)) {
				fail_msg("docs/errors.md:%d: case %s is also on line %d",
				         doc.rows[i].line, doc.rows[i].id, doc.rows[j].line);
			}
		}
	}
}

/* Each row in one section; each section with rows and a file that runs it. */
static void errors_doc__every_row_has_one_section(void **state)
{
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < doc.count; i++) {
		const struct errcase_section *sec;
		size_t n = errcase_sections_of(doc.rows[i].fn, &sec);

		if (n != 1) {
			print_message("  docs/errors.md:%d: %s is in %zu sections\n",
			              doc.rows[i].line, doc.rows[i].fn, n);
			bad++;
		}
	}
	for (size_t s = 0; s < errcase_section_count; s++) {
		const struct errcase_section *want = &errcase_sections[s];
		char path[512], call[96];
		size_t rows = 0;
		char *text;

		for (size_t i = 0; i < doc.count; i++) {
			const struct errcase_section *sec;

			rows += errcase_sections_of(doc.rows[i].fn, &sec) == 1 && sec == want;
		}
		snprintf(path, sizeof(path), "%s/tests/errors/test_errors_%s.c", SOURCE_DIR,
		         want->name);
		snprintf(call, sizeof(call), "errcase_main(\"%s\",", want->name);
		text = read_file(path);
		if (!text || !strstr(text, call)) {
			print_message(
			        "  section %s: tests/errors/test_errors_%s.c is missing or does "
			        "not run it\n",
			        want->name, want->name);
			bad++;
		}
		free(text);
		if (!rows) {
			print_message("  section %s has no row\n", want->name);
			bad++;
		}
		print_message("  section %s: %zu rows\n", want->name, rows);
	}
	assert_int_equal(bad, 0);
}

static bool doc_has_fn(const char *fn)
{
	for (size_t i = 0; i < doc.count; i++) {
		if (!strcmp(doc.rows[i].fn, fn)) {
			return true;
		}
	}
	return false;
}

/* Names declared "VGALLOC_API <type> name(" in a public header; returns how many. */
static size_t header_functions(const char *path, char names[][64], size_t max)
{
	char *text = read_file(path);
	size_t n = 0;

	assert_non_null(text);
	for (char *p = strstr(text, "VGALLOC_API"); p; p = strstr(p + 1, "VGALLOC_API")) {
		char *line = p, *paren = strchr(p, '('), *name;

		while (line > text && line[-1] != '\n') {
			line--;
		}
		if (*line == '#' || !paren) {
			continue; /* the macro's own definition */
		}
		name = paren;
		while (name > p && (name[-1] == '_' || (name[-1] >= 'a' && name[-1] <= 'z') ||
		                    (name[-1] >= '0' && name[-1] <= '9'))) {
			name--;
		}
		if (paren - name > 0 && paren - name < 64 && n < max) {
			memcpy(names[n], name, (size_t)(paren - name));
			names[n][paren - name] = 0;
			n++;
		}
	}
	free(text);
	return n;
}

static void errors_doc__every_public_function_has_a_row(void **state)
{
	static const char *const headers[] = {
		SOURCE_DIR "/include/vgalloc/vgalloc.h",
		SOURCE_DIR "/include/vgalloc/vgalloc_capset.h",
		SOURCE_DIR "/include/vgalloc/vgalloc_diag.h",
		SOURCE_DIR "/include/vgalloc/vgalloc_mock.h",
	};
	static char names[256][64];
	size_t n = 0, missing = 0;

	(void)state;
	for (size_t h = 0; h < ARRAY_LEN(headers); h++) {
		size_t got = header_functions(headers[h], names + n, ARRAY_LEN(names) - n);

		assert_true(got > 0);
		n += got;
	}
	for (size_t i = 0; i < n; i++) {
		if (!doc_has_fn(names[i])) {
			print_message("  %s has no row in docs/errors.md\n", names[i]);
			missing++;
		}
	}
	/* And every function a row names is declared. */
	for (size_t i = 0; i < doc.count; i++) {
		bool found = false;

		for (size_t j = 0; j < n && !found; j++) {
			found = !strcmp(doc.rows[i].fn, names[j]);
		}
		if (!found) {
			print_message("  docs/errors.md:%d: %s is no public function\n",
			              doc.rows[i].line, doc.rows[i].fn);
			missing++;
		}
	}
	print_message("  %zu public functions, %zu rows\n", n, doc.count);
	assert_int_equal(missing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors_doc__parses),
		cmocka_unit_test(errors_doc__every_row_has_one_section),
		cmocka_unit_test(errors_doc__every_public_function_has_a_row),
	};
	int ret;

	doc_load();
	ret = cmocka_run_group_tests_name("errors_doc", tests, NULL, NULL);
	free(doc.rows);
	return ret;
}
