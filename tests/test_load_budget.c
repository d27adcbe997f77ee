/*
 * The memory of a load (issue "Hardening", defects 1 and 11): a static
 * string costs about its length however often an alias repeats it, the
 * load as a whole stays under SL_CONF_LOAD_BUDGET with an error that names
 * the place in the file, and errors without a place get one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "interp/provider.h"
#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/conf.h"
#include "unit.h"

/** Length of the aliased string. */
#define BIG (1u << 20)

/**
 * A document "big: &A <BIG x's>" then `aliases` keys "pN: *A", in a
 * mapping at the root. The caller frees the document.
 */
static struct sl_conf_doc *
aliased(unsigned aliases)
{
	size_t cap = BIG + 64 + (size_t)aliases * 24;
	char *y = sl_malloc(cap);
	if (y == NULL)
		return NULL;
	size_t n = (size_t)snprintf(y, cap, "big: &A \"");
	memset(y + n, 'x', BIG);
	n += BIG;
	n += (size_t)snprintf(y + n, cap - n, "\"\n");
	for (unsigned i = 0; i < aliases; i++)
		n += (size_t)snprintf(y + n, cap - n, "p%u: *A\n", i);
	struct sl_conf_doc *d = sl_conf_load(y, n, "t.yaml");
	sl_free(y);
	return d;
}

/** Peak resident set of this process in MiB. */
static long
peak_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

TAP_CASE(static_string_costs_its_length)
{
	struct sl_conf_doc *d = aliased(200);
	ok(d != NULL, "the document loads");
	if (d == NULL)
		return;
	struct sl_conf *root = sl_conf_root(d);
	long before = peak_mib();
	struct sl_prov **p = sl_calloc(root->n, sizeof(*p));
	uint32_t made = 0;
	for (uint32_t i = 0; i < root->n; i++, made++)
		if ((p[i] = sl_prov_compile(root->items[2 * i + 1], "v")) ==
		    NULL)
			break;
	is_int(made, 201, "201 static providers of a 1 MiB string");
	long grew = peak_mib() - before;
	/* One value per character (16 bytes each) made this 3.4 GiB. */
	ok(grew < 400, "they cost about their length (%ld MiB for 201 MiB)",
	   grew);
	/* Many values of a static string are still its characters. */
	struct sl_arena a;
	sl_arena_create(&a, 4096, (size_t)64 << 20);
	struct sl_prov_ctx c = {.a = &a};
	struct sl_value v = sl_null(), many = sl_null();
	ok(sl_prov_single(p[7], &c, &v) == 0 && v.type == SL_VSTR &&
	           v.len == BIG,
	   "the single value is the string");
	ok(sl_prov_many(p[7], &c, &many) == 0 && many.type == SL_VARRAY &&
	           many.len == BIG && many.u.items[5].len == 1 &&
	           many.u.items[5].u.s[0] == 'x',
	   "its many values are its characters");
	sl_arena_destroy(&a);
	for (uint32_t i = 0; i < made; i++)
		sl_prov_delete(p[i]);
	sl_free(p);
	sl_conf_doc_delete(d);
}

TAP_CASE(many_of_multibyte_static_string)
{
	const char *y = "s: \"a\xc3\xa9\xe2\x82\xac\"\n";
	struct sl_conf_doc *d = sl_conf_load(y, strlen(y), "m.yaml");
	struct sl_prov *p =
	        d ? sl_prov_compile(sl_conf_root(d)->items[1], "s") : NULL;
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	struct sl_prov_ctx c = {.a = &a};
	struct sl_value many = sl_null();
	ok(p != NULL && sl_prov_many(p, &c, &many) == 0 && many.len == 3 &&
	           many.u.items[1].len == 2 && many.u.items[2].len == 3,
	   "characters, not bytes");
	/* The characters go in the record's scratch memory, under its cap. */
	struct sl_arena tiny;
	sl_arena_create(&tiny, 16, 16);
	c.a = &tiny;
	ok(p != NULL && sl_prov_many(p, &c, &many) == -1,
	   "a full scratch arena is an error");
	is_err(SL_ELIMIT, "SL_ELIMIT");
	sl_arena_destroy(&tiny);
	sl_arena_destroy(&a);
	sl_prov_delete(p);
	sl_conf_doc_delete(d);
}

TAP_CASE(budget_names_the_place)
{
	/* 600 uses of a 1 MiB string pass the 512 MiB budget. */
	struct sl_conf_doc *d = aliased(600);
	ok(d != NULL, "the document loads (its nodes are shared)");
	if (d == NULL)
		return;
	struct sl_conf *root = sl_conf_root(d);
	struct sl_prov **p = sl_calloc(root->n, sizeof(*p));
	uint32_t made = 0;
	for (; made < root->n; made++)
		if ((p[made] = sl_prov_compile(root->items[2 * made + 1],
		                               "value")) == NULL)
			break;
	ok(made < root->n && made > 400, "the budget stops it (after %u)",
	   made);
	is_err(SL_ELIMIT, "SL_ELIMIT");
	const char *m = unit_errmsg();
	ok(strncmp(m, "t.yaml:1:6: value: ", 19) == 0 &&
	           strstr(m, "512 MiB") != NULL && strstr(m, "budget") != NULL,
	   "the message names the file, line and budget: %s", m);
	for (uint32_t i = 0; i < made; i++)
		sl_prov_delete(p[i]);
	sl_free(p);
	sl_conf_doc_delete(d);
}

TAP_CASE(arena_cap_is_placed)
{
	/* One static value bigger than a provider's memory may be. */
	unsigned n = 600;
	size_t cap = BIG + 64 + (size_t)n * 4;
	char *y = sl_malloc(cap);
	size_t len = (size_t)snprintf(y, cap, "a: &A \"");
	memset(y + len, 'y', BIG);
	len += BIG;
	len += (size_t)snprintf(y + len, cap - len, "\"\nb:\n  - [");
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(y + len, cap - len, "%s*A",
		                        i ? ", " : "");
	len += (size_t)snprintf(y + len, cap - len, "]\n");
	struct sl_conf_doc *d = sl_conf_load(y, len, "c.yaml");
	sl_free(y);
	struct sl_prov *p =
	        d ? sl_prov_compile(sl_conf_root(d)->items[3], "b") : NULL;
	ok(d != NULL && p == NULL, "the copy is refused");
	const char *m = unit_errmsg();
	ok(strncmp(m, "c.yaml:", 7) == 0, "with a place: %s", m);
	sl_prov_delete(p);
	sl_conf_doc_delete(d);
}

TAP_CASE(place_error)
{
	const char *y = "a:\n  b: 1\n";
	struct sl_conf_doc *d = sl_conf_load(y, strlen(y), "q.yaml");
	const struct sl_conf *b =
	        sl_conf_get(sl_conf_get(sl_conf_root(d), "a"), "b");
	sl_diag_set(SL_ELIMIT, "buffer cap of 16 bytes reached");
	sl_conf_place_error(b, "b");
	is_str(unit_errmsg(), "q.yaml:2:6: b", "an error gets a place");
	char buf[256];
	sl_error_format(sl_diag_last(), buf, sizeof(buf));
	is_str(buf, "q.yaml:2:6: b: buffer cap of 16 bytes reached",
	       "in front of its message");
	is_err(SL_ELIMIT, "keeping its code");
	sl_conf_place_error(sl_conf_root(d), "again");
	sl_error_format(sl_diag_last(), buf, sizeof(buf));
	is_str(buf, "q.yaml:2:6: b: buffer cap of 16 bytes reached",
	       "one place only");
	sl_conf_error(b, "b", "bad");
	sl_conf_place_error(sl_conf_root(d), "root");
	is_str(unit_errmsg(), "q.yaml:2:6: b: bad",
	       "a positioned error keeps its own place");
	sl_diag_set(SL_EINVAL, "x:y: 1:2: not a place");
	sl_conf_place_error(b, NULL);
	is_str(unit_errmsg(), "q.yaml:2:6", "a look-alike is not a place");
	sl_diag_clear(sl_diag_get());
	sl_conf_doc_delete(d);
}

TAP_CASE(read_file_names_it)
{
	size_t len;
	char *t = sl_conf_read_file("/dev/zero", 1 << 20, &len);
	ok(t == NULL, "/dev/zero is refused");
	is_err(SL_ELIMIT, "SL_ELIMIT");
	is_str(unit_errmsg(),
	       "/dev/zero: larger than 1 MiB, the most sluice reads of a "
	       "configuration file",
	       "the message names the file and the cap");
	t = sl_conf_read_file("/nonexistent/x.yaml", 1 << 20, &len);
	ok(t == NULL && strstr(unit_errmsg(), "/nonexistent/x.yaml") != NULL,
	   "a missing file is named");
	sl_diag_clear(sl_diag_get());
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
