/*
 * The airports workload shared by bench_interpret and bench_sqlite_load:
 * a generated CSV of AIRPORTS_ROWS rows in the shape of the compat
 * fixture (nodestream v0.16.1 tests/data/airport-codes.csv) and the compat
 * airports pipeline (shared/compat/airports/pipeline.yaml) pointing at it.
 *
 * The rows are built from the fixture's rows, read from
 * SLUICE_COMPAT_DIR/airports/tests/data/airport-codes.csv (or from a few
 * of them built in here if that file is missing), with unique idents and
 * varied countries and regions.
 *
 * Also a streaming CSV reader (RFC 4180: quoted fields with "" escapes,
 * commas and newlines inside quotes, CRLF or LF line ends), which reads
 * the fixture and, in bench_sqlite_load, the generated file.
 */
#ifndef SLUICE_BENCH_AIRPORTS_H
#define SLUICE_BENCH_AIRPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SLUICE_COMPAT_DIR
#define SLUICE_COMPAT_DIR "/work/shared/compat"
#endif

/** The fixture, under SLUICE_COMPAT_DIR. */
#define AIRPORTS_FIXTURE \
	SLUICE_COMPAT_DIR "/airports/tests/data/airport-codes.csv"

/** Rows of the generated input. */
#define AIRPORTS_ROWS 1000000UL
/** Columns of the airports CSV. */
#define AIRPORTS_NCOLS 12

/** Column numbers of the fields the pipeline reads. */
enum airports_col {
	AIRPORTS_IDENT = 0,
	AIRPORTS_NAME = 2,
	AIRPORTS_ELEVATION_FT = 3,
	AIRPORTS_ISO_COUNTRY = 5,
	AIRPORTS_ISO_REGION = 6,
	AIRPORTS_IATA_CODE = 9,
	AIRPORTS_LOCAL_CODE = 10,
};

/* The fixture's header; its lines end in CRLF, and so do ours. */
static const char airports_header[] =
        "ident,type,name,elevation_ft,continent,iso_country,iso_region,"
        "municipality,gps_code,iata_code,local_code,coordinates";

/* A few of the fixture's rows, used only if the fixture is missing. */
static const char airports_builtin_rows[] =
        "00A,heliport,Total Rf Heliport,11,NA,US,US-PA,Bensalem,00A,,00A,"
        "\"-74.93360137939453, 40.07080078125\"\r\n"
        "00AA,small_airport,Aero B Ranch Airport,3435,NA,US,US-KS,Leoti,00AA,"
        ",00AA,\"-101.473911, 38.704022\"\r\n"
        "00AK,small_airport,Lowell Field,450,NA,US,US-AK,Anchor Point,00AK,,"
        "00AK,\"-151.695999146, 59.94919968\"\r\n"
        "00AL,small_airport,Epps Airpark,820,NA,US,US-AL,Harvest,00AL,,00AL,"
        "\"-86.77030181884766, 34.86479949951172\"\r\n"
        "03OI,heliport,\"Cleveland Clinic, Marymount Hospital Heliport\",890,"
        "NA,US,US-OH,Garfield Heights,03OI,,03OI,\"-81.599552, 41.420312\"\r\n"
        "0GA2,small_airport,\"Airnautique, Inc. Airport\",720,NA,US,US-GA,"
        "Hartwell,0GA2,,0GA2,\"-82.9457015991211, 34.377899169921875\"\r\n";

/* --- The CSV reader ----------------------------------------------------- */

/** Most fields a record may have; more is an error. */
#define AIRPORTS_CSV_MAXF 64

/** A streaming CSV reader over a FILE (reads it in 1 MiB chunks). */
struct airports_csv {
	FILE *f;
	/** Input chunk: bytes [pos, len) are unread. */
	char *in;
	size_t len, pos;
	bool eof;
	/** The current record's fields, each NUL-terminated, in `text`. */
	char *text;
	size_t cap, used;
	size_t off[AIRPORTS_CSV_MAXF], flen[AIRPORTS_CSV_MAXF];
	/** Number of fields of the current record. */
	int nf;
};

#define AIRPORTS_CSV_CHUNK (1u << 20)

/** Start reading `f` (not closed by the reader). 0, or -1 (no memory). */
static inline int
airports_csv_init(struct airports_csv *c, FILE *f)
{
	memset(c, 0, sizeof(*c));
	c->f = f;
	c->in = malloc(AIRPORTS_CSV_CHUNK);
	c->cap = 4096;
	c->text = malloc(c->cap);
	return c->in != NULL && c->text != NULL ? 0 : -1;
}

static inline void
airports_csv_free(struct airports_csv *c)
{
	free(c->in);
	free(c->text);
}

/** The next input byte, or -1 at the end of the input. */
static inline int
airports_csv_getc(struct airports_csv *c)
{
	if (c->pos == c->len) {
		if (c->eof)
			return -1;
		c->len = fread(c->in, 1, AIRPORTS_CSV_CHUNK, c->f);
		c->pos = 0;
		if (c->len < AIRPORTS_CSV_CHUNK)
			c->eof = true;
		if (c->len == 0)
			return -1;
	}
	return (unsigned char)c->in[c->pos++];
}

/** Put back the byte just read (there is always room). */
static inline void
airports_csv_ungetc(struct airports_csv *c)
{
	c->pos--;
}

static inline int
airports_csv_put(struct airports_csv *c, char ch)
{
	if (c->used == c->cap) {
		char *t = realloc(c->text, c->cap * 2);
		if (t == NULL)
			return -1;
		c->text = t;
		c->cap *= 2;
	}
	c->text[c->used++] = ch;
	return 0;
}

/** End the current field. */
static inline int
airports_csv_endf(struct airports_csv *c)
{
	if (c->nf == AIRPORTS_CSV_MAXF)
		return -1;
	size_t start =
	        c->nf == 0 ? 0 : c->off[c->nf - 1] + c->flen[c->nf - 1] + 1;
	c->off[c->nf] = start;
	c->flen[c->nf] = c->used - start;
	c->nf++;
	return airports_csv_put(c, '\0');
}

/**
 * Read the next record: 1 (its fields are airports_csv_field(c, i), i <
 * c->nf), 0 at the end of the input, -1 on an error (a read error, an
 * unterminated quote, no memory, too many fields).
 */
static inline int
airports_csv_next(struct airports_csv *c)
{
	c->used = 0;
	c->nf = 0;
	int ch = airports_csv_getc(c);
	if (ch < 0)
		return ferror(c->f) ? -1 : 0;
	for (;;) {
		/* At the start of a field; `ch` is its first byte. */
		if (ch == '"') {
			for (;;) {
				ch = airports_csv_getc(c);
				if (ch < 0)
					return -1; /* unterminated quote */
				if (ch == '"') {
					ch = airports_csv_getc(c);
					if (ch != '"')
						break;
				}
				if (airports_csv_put(c, (char)ch) != 0)
					return -1;
			}
			/* Lenient: text after the closing quote is kept. */
		}
		while (ch >= 0 && ch != ',' && ch != '\n' && ch != '\r') {
			if (airports_csv_put(c, (char)ch) != 0)
				return -1;
			ch = airports_csv_getc(c);
		}
		if (airports_csv_endf(c) != 0)
			return -1;
		if (ch == ',') {
			ch = airports_csv_getc(c);
			continue;
		}
		if (ch == '\r') {
			ch = airports_csv_getc(c);
			if (ch >= 0 && ch != '\n')
				airports_csv_ungetc(c);
		}
		if (ch < 0 && ferror(c->f))
			return -1;
		return 1;
	}
}

/** Field `i` of the current record (NUL-terminated). */
static inline const char *
airports_csv_field(const struct airports_csv *c, int i)
{
	return c->text + c->off[i];
}

/** Length of field `i` of the current record. */
static inline size_t
airports_csv_flen(const struct airports_csv *c, int i)
{
	return c->flen[i];
}

/* --- The template rows and the generator -------------------------------- */

/** One template row: its fields, unquoted. */
struct airports_row {
	char *f[AIRPORTS_NCOLS];
};

/** The template rows. */
struct airports_tmpl {
	struct airports_row *rows;
	size_t n;
	/** Where they came from (the fixture's path, or a note). */
	const char *from;
};

/** Whether the current record is the fixture's header. */
static inline bool
airports_is_header(const struct airports_csv *c)
{
	if (c->nf != AIRPORTS_NCOLS)
		return false;
	const char *h = airports_header;
	for (int i = 0; i < AIRPORTS_NCOLS; i++) {
		size_t n = airports_csv_flen(c, i);
		if (strncmp(h, airports_csv_field(c, i), n) != 0 ||
		    (h[n] != ',' && h[n] != '\0'))
			return false;
		h += n + 1;
	}
	return true;
}

/** Add every remaining record of `c` to `t`. 0, or -1. */
static inline int
airports_add_rows(struct airports_tmpl *t, struct airports_csv *c)
{
	int rc;
	while ((rc = airports_csv_next(c)) == 1) {
		if (c->nf != AIRPORTS_NCOLS)
			return -1;
		struct airports_row *nr =
		        realloc(t->rows, (t->n + 1) * sizeof(*t->rows));
		if (nr == NULL)
			return -1;
		t->rows = nr;
		struct airports_row *r = &t->rows[t->n];
		for (int i = 0; i < AIRPORTS_NCOLS; i++)
			r->f[i] = NULL;
		t->n++;
		for (int i = 0; i < AIRPORTS_NCOLS; i++)
			if ((r->f[i] = strdup(airports_csv_field(c, i))) ==
			    NULL)
				return -1;
	}
	return rc;
}

/** Free the template rows. */
static inline void
airports_tmpl_free(struct airports_tmpl *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (int c = 0; c < AIRPORTS_NCOLS; c++)
			free(t->rows[i].f[c]);
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

/**
 * Load the template rows from `fixture` if it exists and starts with the
 * fixture's header, else from the rows built in here; t->from says which.
 * 0, or -1 (a malformed fixture, no memory).
 */
static inline int
airports_tmpl_load(struct airports_tmpl *t, const char *fixture)
{
	memset(t, 0, sizeof(*t));
	struct airports_csv c;
	FILE *f = fopen(fixture, "rb");
	if (f != NULL) {
		int rc = airports_csv_init(&c, f);
		if (rc == 0 && airports_csv_next(&c) == 1 &&
		    airports_is_header(&c))
			rc = airports_add_rows(t, &c);
		airports_csv_free(&c);
		fclose(f);
		if (rc != 0)
			return -1;
		if (t->n > 0) {
			t->from = fixture;
			return 0;
		}
	}
	f = fmemopen((void *)airports_builtin_rows,
	             sizeof(airports_builtin_rows) - 1, "r");
	if (f == NULL)
		return -1;
	int rc = airports_csv_init(&c, f);
	if (rc == 0)
		rc = airports_add_rows(t, &c);
	airports_csv_free(&c);
	fclose(f);
	t->from = "the rows built into bench/airports.h (fixture not found)";
	return rc;
}

/** Write a field, quoted if it has to be. */
static inline void
airports_put_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\n\r") == NULL) {
		fputs(s, f);
		return;
	}
	putc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	putc('"', f);
}

/**
 * Write the header and `rows` rows to `path`: template rows in
 * turn, the ident suffixed with the row number, the country one of 250
 * two-letter codes and the region one of 40 per country, drawn from a
 * fixed-seed xorshift. Lines end in CRLF, as in the fixture. *bytes is the
 * file's size. 0, or -1 with errno.
 */
static inline int
airports_generate_n(const struct airports_tmpl *t, const char *path,
                    unsigned long rows, size_t *bytes)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	fputs(airports_header, f);
	fputs("\r\n", f);
	uint64_t x = 88172645463325252ull;
	for (unsigned long i = 0; i < rows; i++) {
		const struct airports_row *r = &t->rows[i % t->n];
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned cc = (unsigned)(x % 250),
		         rg = (unsigned)(x >> 32) % 40;
		char country[3] = {(char)('A' + cc / 26), (char)('A' + cc % 26),
		                   0};
		fprintf(f, "%s-%lu", r->f[AIRPORTS_IDENT], i);
		for (int c = 1; c < AIRPORTS_NCOLS; c++) {
			putc(',', f);
			if (c == AIRPORTS_ISO_COUNTRY)
				fputs(country, f);
			else if (c == AIRPORTS_ISO_REGION)
				fprintf(f, "%s-%c%u", country,
				        "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rg % 26],
				        rg);
			else
				airports_put_field(f, r->f[c]);
		}
		fputs("\r\n", f);
	}
	long end = ftell(f);
	*bytes = end > 0 ? (size_t)end : 0;
	bool bad = ferror(f) != 0;
	return fclose(f) == 0 && !bad ? 0 : -1;
}

/** airports_generate_n() of AIRPORTS_ROWS rows. */
static inline int
airports_generate(const struct airports_tmpl *t, const char *path,
                  size_t *bytes)
{
	return airports_generate_n(t, path, AIRPORTS_ROWS, bytes);
}

/* --- The pipelines ------------------------------------------------------ */

/** A FileExtractor reading one glob (a format taking the glob). */
#define AIRPORTS_EXTRACTOR                                  \
	"- implementation: nodestream.pipeline.extractors:" \
	"FileExtractor\n"                                   \
	"  factory: local\n"                                \
	"  arguments:\n"                                    \
	"    globs:\n"                                      \
	"      - %s\n"

/**
 * Write the compat airports pipeline to `path`, verbatim but for the glob
 * (`data`). Its pipeline name, and so the was_ingested_by_<name> property,
 * comes from the file name. 0, or -1 with errno.
 */
static inline int
airports_write_pipeline(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
	        AIRPORTS_EXTRACTOR
	        "\n"
	        "- implementation: nodestream.interpreting:Interpreter\n"
	        "  arguments:\n"
	        "    interpretations:\n"
	        "      - type: source_node\n"
	        "        node_type: Airport\n"
	        "        key:\n"
	        "          identifier: !jmespath ident\n"
	        "        properties:\n"
	        "          elevation_in_feet: !jmespath elevation_ft\n"
	        "          iata_code: !jmespath iata_code\n"
	        "          local_code: !jmespath local_code\n"
	        "          name: !jmespath name\n"
	        "      - type: relationship\n"
	        "        node_type: Country\n"
	        "        relationship_type: WITHIN\n"
	        "        node_key:\n"
	        "          code: !jmespath iso_country\n"
	        "      - type: relationship\n"
	        "        node_type: Region\n"
	        "        relationship_type: WITHIN\n"
	        "        node_key:\n"
	        "          code: !jmespath iso_region\n",
	        data);
	return fclose(f);
}

/** Write the same FileExtractor alone to `path`. 0, or -1 with errno. */
static inline int
airports_write_parse_pipeline(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, AIRPORTS_EXTRACTOR, data);
	return fclose(f);
}

#endif /* SLUICE_BENCH_AIRPORTS_H */
