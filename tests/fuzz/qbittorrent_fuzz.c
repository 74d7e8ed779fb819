/*
 * qbittorrent_fuzz: hostile /api/v2/sync/maindata answers merged into the
 * torrent table. The reader (maindata_apply) is static, so this file
 * includes qbittorrent.c to reach it. The body is one maindata answer or
 * an array of them merged in turn, as successive progress cycles would.
 * Checks what qbittorrent.h promises after every merge: the table is
 * sorted by lower-case hash with no duplicates, every string is set,
 * progress is within 0..1, an unknown ETA is -1, every torrent is found
 * by its hash in upper case too, and a refused answer changes nothing.
 */
#include "services/qbittorrent.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_table(const struct qbittorrent *qb)
{
	char upper[QB_MAX_HASH];

	for (size_t i = 0; i < qbittorrent_count(qb); i++) {
		const struct qbittorrent_torrent *t = qbittorrent_at(qb, i);
		size_t n;

		if (t->hash == NULL || t->name == NULL || t->state_name == NULL ||
		    t->save_path == NULL || t->category == NULL)
			abort();
		if (i > 0 && strcmp(qbittorrent_at(qb, i - 1)->hash, t->hash) >= 0)
			abort();
		if (!(t->progress >= 0 && t->progress <= 1) || t->eta < -1 ||
		    t->eta >= QB_ETA_UNKNOWN)
			abort();
		if ((unsigned)t->state > QBITTORRENT_MOVING)
			abort();
		n = strlen(t->hash);
		if (n == 0 || n >= QB_MAX_HASH)
			abort();
		for (size_t k = 0; k <= n; k++)
			upper[k] = (char)toupper((unsigned char)t->hash[k]);
		if (qbittorrent_find(qb, upper) != t)
			abort();
	}
}

/* jansson as the referee: what it reads as JSON the scanner must read
 * too, and what the scanner takes jansson must take, but for the two
 * differences core/jscan.h names (integers past a long long, nesting
 * jansson allows deeper) and jansson's passing over NUL bytes between
 * tokens, which RFC 8259 does not allow. */
static void
compare_with_jansson(const char *text, size_t len, enum maindata_result r, const char *err)
{
	json_error_t jerr;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &jerr);

	if (v != NULL && r == MAINDATA_SYNTAX && strstr(err, "nested too deeply") == NULL &&
	    memchr(text, '\0', len) == NULL)
		abort();
	if (v == NULL && r != MAINDATA_SYNTAX && strstr(jerr.text, "too big") == NULL)
		abort();
	json_decref(v);
}

static void
merge(struct qbittorrent *qb, const char *text, size_t len)
{
	size_t before = qb->count;
	long rid = qb->rid;
	char err[128] = "";
	enum maindata_result r = maindata_apply(qb, text, len, err, sizeof(err));

	if (r != MAINDATA_OK && (qb->count != before || qb->rid != rid))
		abort();
	compare_with_jansson(text, len, r, err);
	check_table(qb);
}

/* The input is one maindata answer as it came, or a JSON array of them
 * merged in turn, as successive progress cycles would. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qbittorrent *qb = xcalloc(1, sizeof(*qb));
	json_t *root = json_loadb((const char *)data, size, 0, NULL);
	json_t *body;
	size_t i;

	if (json_is_array(root)) {
		json_array_foreach(root, i, body)
		{
			char *text = json_dumps(body, JSON_ENCODE_ANY | JSON_COMPACT);

			if (text != NULL)
				merge(qb, text, strlen(text));
			free(text);
		}
	} else {
		merge(qb, (const char *)data, size);
	}
	json_decref(root);
	table_clear(qb);
	free(qb->torrents);
	free(qb);
	return 0;
}
