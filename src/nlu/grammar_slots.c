/* grammar_slots: what the groups of a match say, turned into intent fields
 * (titles copied from what was typed, numbers read, seasons listed). */
#include "nlu/grammar_impl.h"

#include <string.h>
#include <strings.h>

#include "core/util.h"

const char *const grammar_slot_names[SLOT_COUNT] = {
    "title",  "year", "season", "episode", "choice", "all_seasons",
    "latest", "uhd",  "movie",  "tv",      "other",
};

static const char *const number_words[] = {
    "zero",     "one",     "two",     "three",     "four",     "five",     "six",
    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",   "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
};
static const char *const ordinal_words[] = {
    "zeroth",     "first",     "second",    "third",       "fourth",     "fifth",      "sixth",
    "seventh",    "eighth",    "ninth",     "tenth",       "eleventh",   "twelfth",    "thirteenth",
    "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth",
};

static bool
is_alnum_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Reads one number at *pp ("2", "02", "s02", "#2", "2nd", "two",
 * "second"); returns it and advances, or returns -1 and advances past the
 * word that is not a number. */
static int
read_number(const char **pp, const char *end)
{
	const char *p = *pp, *w = p;
	size_t len, i;
	int v = 0, digits = 0;

	if (p < end && (*p == 's' || *p == 'e' || *p == '#') && p + 1 < end && p[1] >= '0' &&
	    p[1] <= '9')
		p++;
	while (p < end && *p >= '0' && *p <= '9' && digits < 5) {
		v = v * 10 + (*p - '0');
		p++;
		digits++;
	}
	if (digits > 0) {
		if (end - p >= 2 && (!strncmp(p, "st", 2) || !strncmp(p, "nd", 2) ||
		                     !strncmp(p, "rd", 2) || !strncmp(p, "th", 2)))
			p += 2;
		if (p < end && is_alnum_byte(*p) && digits < 5) {
			while (p < end && is_alnum_byte(*p))
				p++;
			*pp = p;
			return -1;
		}
		*pp = p;
		return digits < 5 ? v : -1;
	}
	while (p < end && is_alnum_byte(*p))
		p++;
	*pp = p == w ? p + 1 : p;
	len = (size_t)(p - w);
	for (i = 0; i < sizeof(number_words) / sizeof(number_words[0]); i++) {
		if (strlen(number_words[i]) == len && strncmp(number_words[i], w, len) == 0)
			return (int)i;
		if (strlen(ordinal_words[i]) == len && strncmp(ordinal_words[i], w, len) == 0)
			return (int)i;
	}
	if (len == 6 && strncmp(w, "thirty", 6) == 0)
		return 30;
	return -1;
}

static void
season_add(struct intent *in, int n)
{
	int i;

	if (n < 0 || n > 100 || in->season_count >= INTENT_SEASONS_MAX)
		return;
	for (i = 0; i < in->season_count && in->season_list[i] < n; i++)
		;
	if (i < in->season_count && in->season_list[i] == n)
		return;
	memmove(&in->season_list[i + 1], &in->season_list[i],
	        (size_t)(in->season_count - i) * sizeof(int));
	in->season_list[i] = n;
	in->season_count++;
}

static bool
word_is(const char *p, const char *end, const char *w)
{
	size_t n = strlen(w);

	return (size_t)(end - p) >= n && strncmp(p, w, n) == 0 &&
	       ((size_t)(end - p) == n || !is_alnum_byte(p[n]));
}

/* "2", "1-3", "one and two", "1, 2 & 4", "2 through 5", "s01-s03". */
static void
parse_seasons(const char *p, const char *end, struct intent *in)
{
	int prev = -1;
	bool range = false;

	while (p < end) {
		int n;

		if (*p == ' ' || *p == ',' || *p == '&' || *p == '+' || *p == '/') {
			p++;
			continue;
		}
		if (*p == '-') {
			range = true;
			p++;
			continue;
		}
		if (word_is(p, end, "and")) {
			p += 3;
			continue;
		}
		if (word_is(p, end, "to") || word_is(p, end, "thru") ||
		    word_is(p, end, "through") || word_is(p, end, "till") ||
		    word_is(p, end, "until")) {
			range = true;
			while (p < end && is_alnum_byte(*p))
				p++;
			continue;
		}
		n = read_number(&p, end);
		if (n < 0)
			continue;
		if (range && prev >= 0 && n > prev && n - prev <= INTENT_SEASONS_MAX) {
			for (int k = prev + 1; k <= n; k++)
				season_add(in, k);
		} else {
			season_add(in, n);
		}
		prev = n;
		range = false;
	}
}

static bool
is_space_at(const char *s, size_t *n)
{
	if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
		*n = 1;
		return true;
	}
	if ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0) {
		*n = 2;
		return true;
	}
	return false;
}

/* Every quote mark starts with one of the bytes '"' \xc2 \xe2, every
 * suffix with a space: most places are passed over on their first byte. */
#define LIT(s)                                                                                     \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}
static const struct lit {
	const char *s;
	size_t len;
} quote_marks[] = {LIT("\""),       LIT("\xe2\x80\x9c"), LIT("\xe2\x80\x9d"),
                   LIT("\xc2\xab"), LIT("\xc2\xbb"),     LIT("\xe2\x80\x9e")},
  title_suffixes[] = {
      LIT(" the movie"), LIT(" the film"), LIT(" the show"), LIT(" the series"), LIT(" please"),
      LIT(" pls"),       LIT(" plz"),      LIT(" for me"),   LIT(" for us"),     LIT(" thanks"),
      LIT(" thank you"), LIT(" thx"),      LIT(" asap"),
};
#undef LIT

static bool
may_be_quote(unsigned char c)
{
	return c == '"' || c == 0xc2 || c == 0xe2;
}

static size_t
quote_at(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !may_be_quote((unsigned char)s[0]))
		return 0;
	for (i = 0; i < sizeof(quote_marks) / sizeof(quote_marks[0]); i++) {
		if (len >= quote_marks[i].len &&
		    memcmp(s, quote_marks[i].s, quote_marks[i].len) == 0)
			return quote_marks[i].len;
	}
	return 0;
}

static size_t
quote_before(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(quote_marks) / sizeof(quote_marks[0]); i++) {
		size_t q = quote_marks[i].len;
		if (len >= q && s[len - 1] == quote_marks[i].s[q - 1] &&
		    memcmp(s + len - q, quote_marks[i].s, q) == 0)
			return q;
	}
	return 0;
}

/* Tidies a title copied from what the person typed: one space between
 * words, no wrapping quotes, no trailing punctuation or politeness. */
static void
clean_title(char *t)
{
	size_t r = 0, w = 0, n, len, i, q;
	bool changed = true;

	while (t[r]) {
		if (is_space_at(t + r, &n)) {
			while (t[r] && is_space_at(t + r, &n))
				r += n;
			if (w > 0)
				t[w++] = ' ';
			continue;
		}
		t[w++] = t[r++];
	}
	t[w] = '\0';
	len = w;
	while (changed) {
		changed = false;
		while (len > 0 && (t[len - 1] == ' ' || strchr(".?!,;:", t[len - 1]) != NULL)) {
			len--;
			changed = true;
		}
		if (len >= 3 && strncmp(t + len - 3, "\xe2\x80\xa6", 3) == 0) {
			len -= 3;
			changed = true;
		}
		t[len] = '\0';
		if (len >= 2 && t[0] == '\'' && t[len - 1] == '\'') {
			memmove(t, t + 1, len - 2);
			len -= 2;
			t[len] = '\0';
			changed = true;
		}
		if ((q = quote_at(t, len)) > 0) {
			memmove(t, t + q, len - q + 1);
			len -= q;
			changed = true;
		}
		if ((q = quote_before(t, len)) > 0) {
			len -= q;
			t[len] = '\0';
			changed = true;
		}
		while (len > 0 && t[0] == ' ') {
			memmove(t, t + 1, len--);
			changed = true;
		}
		/* Taken off one at a time, in the order of the table, as
		 * long as one is there ("dune the movie please"). */
		for (i = 0; i < sizeof(title_suffixes) / sizeof(title_suffixes[0]); i++) {
			size_t sl = title_suffixes[i].len;
			char last;

			if (len <= sl)
				continue;
			last = t[len - 1];
			if (last >= 'A' && last <= 'Z')
				last = (char)(last + 32);
			if (last == title_suffixes[i].s[sl - 1] &&
			    strncasecmp(t + len - sl, title_suffixes[i].s, sl) == 0) {
				len -= sl;
				t[len] = '\0';
				changed = true;
			}
		}
	}
}

static bool
has_word_char(const char *t)
{
	for (; *t; t++) {
		if (is_alnum_byte(*t) || (unsigned char)*t >= 0x80)
			return true;
	}
	return false;
}

void
grammar_slots_read(const struct grammar *g, const struct rule *r, struct slot_spans *sp)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(g->md);
	uint32_t pairs = pcre2_get_ovector_count(g->md);
	int s, k;

	sp->set = 0;
	sp->count = 0;
	for (s = 0; s < SLOT_COUNT; s++) {
		for (k = 0; k < r->ngroups[s]; k++) {
			uint16_t grp = r->groups[s][k];
			if (grp < pairs && ov[2 * grp] != PCRE2_UNSET) {
				sp->a[s] = ov[2 * grp];
				sp->b[s] = ov[2 * grp + 1];
				sp->set |= 1u << s;
				sp->count++;
				break;
			}
		}
	}
}

/* Span of slot `s` in the match, relative to the matched text; false when
 * none of its groups took part. */
static bool
slot_span(const struct slot_spans *sp, int s, size_t *a, size_t *b)
{
	if (!(sp->set & (1u << s)))
		return false;
	*a = sp->a[s];
	*b = sp->b[s];
	return true;
}

static bool
is_upper_at(const char *orig, size_t olen, size_t at)
{
	return at < olen && orig[at] >= 'A' && orig[at] <= 'Z';
}

/* "get The Book Thief": a media word in front of the title, typed in
 * Title Case along with it, is part of the title, not a media hint. Moves
 * *a back over it (and its article) and returns true in that case. */
static bool
title_takes_media(const struct grammar *g, const struct slot_spans *sp, size_t start,
                  const char *orig, size_t olen, size_t *a)
{
	const struct normalized *nm = g->norm;
	const char *s = nm->text + start;
	size_t ma, mb, os, oe, ts, te;
	int m;

	for (m = SLOT_MOVIE; m <= SLOT_OTHER; m++) {
		if (slot_span(sp, m, &ma, &mb) && mb <= *a && ma < mb)
			break;
	}
	if (m > SLOT_OTHER)
		return false;
	normalize_span(nm, start + ma, start + ma + 1, &os, &oe);
	normalize_span(nm, start + *a, start + *a + 1, &ts, &te);
	if (!is_upper_at(orig, olen, os) || !is_upper_at(orig, olen, ts) || os + 1 >= olen ||
	    !(orig[os + 1] >= 'a' && orig[os + 1] <= 'z'))
		return false;
	if (ma >= 4 && strncmp(s + ma - 4, "the ", 4) == 0 && (ma == 4 || s[ma - 5] == ' '))
		ma -= 4;
	else if (ma >= 2 && strncmp(s + ma - 2, "a ", 2) == 0 && (ma == 2 || s[ma - 3] == ' '))
		ma -= 2;
	*a = ma;
	return true;
}

/* Fills `in` from the last match of rule `r` on g->norm->text + start.
 * Returns -1 when the match does not make a usable intent (an empty
 * title, a season group with no number). */
int
grammar_slots_extract(const struct grammar *g, const struct slot_spans *sp, size_t start,
                      const char *orig, size_t olen, struct intent *in)
{
	const struct normalized *nm = g->norm;
	const char *s = nm->text + start;
	size_t a, b;
	bool media_in_title = false;

	if (slot_span(sp, SLOT_TITLE, &a, &b)) {
		media_in_title = title_takes_media(g, sp, start, orig, olen, &a);
		char buf[NORMALIZE_MAX * 2 + 8];
		size_t os, oe, n;

		while (a < b && s[a] == ' ')
			a++;
		while (b > a && s[b - 1] == ' ')
			b--;
		if (a == b)
			return -1;
		normalize_span(nm, start + a, start + b, &os, &oe);
		if (oe > olen)
			oe = olen;
		normalize_utf8_copy(buf, sizeof(buf), orig + os, oe - os);
		clean_title(buf);
		if (!has_word_char(buf))
			return -1;
		/* buf is valid UTF-8 already: cut it at a character boundary. */
		n = strlen(buf);
		if (n >= sizeof(in->title)) {
			n = sizeof(in->title) - 1;
			while (n > 0 && ((unsigned char)buf[n] & 0xC0) == 0x80)
				n--;
		}
		memcpy(in->title, buf, n);
		in->title[n] = '\0';
	}
	if (slot_span(sp, SLOT_YEAR, &a, &b)) {
		const char *p = s + a;
		int y = read_number(&p, s + b);
		if (y >= 1880 && y <= 2100)
			in->year = y;
	}
	if (slot_span(sp, SLOT_SEASON, &a, &b)) {
		parse_seasons(s + a, s + b, in);
		if (in->season_count == 0)
			return -1;
		in->seasons = SEASONS_LIST;
	} else if (slot_span(sp, SLOT_ALL_SEASONS, &a, &b)) {
		in->seasons = SEASONS_ALL;
	} else if (slot_span(sp, SLOT_LATEST, &a, &b)) {
		in->seasons = SEASONS_LATEST;
	}
	if (slot_span(sp, SLOT_EPISODE, &a, &b)) {
		const char *p = s + a;
		int e = read_number(&p, s + b);
		if (e <= 0 || e > 9999)
			return -1;
		in->episode = e;
	}
	if (slot_span(sp, SLOT_CHOICE, &a, &b)) {
		const char *p = s + a;
		int c = read_number(&p, s + b);
		if (c <= 0 || c > 50)
			return -1;
		in->choice = c;
	}
	if (slot_span(sp, SLOT_UHD, &a, &b))
		in->want_4k = true;
	if (media_in_title)
		;
	else if (slot_span(sp, SLOT_OTHER, &a, &b))
		in->media = MEDIA_OTHER;
	else if (slot_span(sp, SLOT_TV, &a, &b))
		in->media = MEDIA_TV;
	else if (slot_span(sp, SLOT_MOVIE, &a, &b))
		in->media = MEDIA_MOVIE;
	if (in->media == MEDIA_ANY && (in->seasons != SEASONS_NONE || in->episode > 0))
		in->media = MEDIA_TV;
	return 0;
}
