#include "nlu/normalize.h"

#include <string.h>

#include "core/util.h"

/* Chat shorthand spelled out before matching, so the grammar names each
 * word once. Only whole words are replaced; titles are copied from the
 * original text, so a replacement never changes what a person asked for.
 * Kept in byte order of `from`: shorthand_find() looks up the entries
 * with a word's first byte. */
#define SH(f, t)                                                                                   \
	{                                                                                          \
		f, sizeof(f) - 1, t, sizeof(t) - 1                                                 \
	}
static const struct {
	const char *from;
	size_t from_len;
	const char *to;
	size_t to_len;
} shorthand[] = {
    SH("cant", "can't"),     SH("d'you", "do you"),    SH("didnt", "didn't"),
    SH("dl", "download"),    SH("dled", "downloaded"), SH("dling", "downloading"),
    SH("doesnt", "doesn't"), SH("dont", "don't"),      SH("ep", "episode"),
    SH("eps", "episodes"),   SH("gimme", "give me"),   SH("gonna", "going to"),
    SH("hasnt", "hasn't"),   SH("hows", "how's"),      SH("id", "i'd"),
    SH("im", "i'm"),         SH("isnt", "isn't"),      SH("ive", "i've"),
    SH("k", "ok"),           SH("kk", "ok"),           SH("lemme", "let me"),
    SH("nm", "never mind"),  SH("nvm", "never mind"),  SH("nvmd", "never mind"),
    SH("okey", "okay"),      SH("pl0x", "please"),     SH("pleas", "please"),
    SH("pleaze", "please"),  SH("pleease", "please"),  SH("pleeease", "please"),
    SH("pls", "please"),     SH("plss", "please"),     SH("plz", "please"),
    SH("plzz", "please"),    SH("r", "are"),           SH("rn", "right now"),
    SH("szn", "season"),     SH("thanx", "thanks"),    SH("thats", "that's"),
    SH("thnx", "thanks"),    SH("tho", "though"),      SH("thx", "thanks"),
    SH("tks", "thanks"),     SH("ty", "thanks"),       SH("tysm", "thanks"),
    SH("u", "you"),          SH("ur", "your"),         SH("wanna", "want to"),
    SH("wat", "what"),       SH("wat's", "what's"),    SH("wats", "what's"),
    SH("whats", "what's"),   SH("whens", "when's"),    SH("wheres", "where's"),
    SH("youre", "you're"),
};
#undef SH

#define NSHORTHAND    (sizeof(shorthand) / sizeof(shorthand[0]))
#define SHORTHAND_MAX 8 /* the longest `from` */

/* shorthand[first_at[c] .. first_at[c + 1]) are the entries starting with
 * byte c; built on first use (usher parses on one thread). */
static uint8_t first_at[257];
static bool first_built;

static void
build_first_at(void)
{
	size_t i, c = 0;

	for (i = 0; i < NSHORTHAND; i++) {
		while (c <= (unsigned char)shorthand[i].from[0])
			first_at[c++] = (uint8_t)i;
	}
	while (c <= 256)
		first_at[c++] = (uint8_t)NSHORTHAND;
	first_built = true;
}

/* Index of the shorthand spelled by the k bytes at w, or NSHORTHAND. Every
 * word of every message comes here: only the few entries with its first
 * byte are looked at, and of those only the ones of its length compared. */
static size_t
shorthand_find(const char *w, size_t k)
{
	unsigned char c = (unsigned char)w[0];
	size_t i;

	if (k > SHORTHAND_MAX)
		return NSHORTHAND;
	if (!first_built)
		build_first_at();
	for (i = first_at[c]; i < first_at[c + 1]; i++) {
		if (shorthand[i].from_len == k && memcmp(w, shorthand[i].from, k) == 0)
			return i;
	}
	return NSHORTHAND;
}

size_t
normalize_utf8_decode(const unsigned char *s, size_t len, int32_t *cp)
{
	unsigned char c = s[0];
	size_t n, i;
	int32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2, v = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3, v = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		*cp = -1;
		return 1;
	}
	if (len < n) {
		*cp = -1;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = -1;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		*cp = -1;
		return 1;
	}
	*cp = v;
	return n;
}

size_t
normalize_utf8_copy(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	if (size == 0)
		return 0;
	while (i < len) {
		int32_t cp;
		size_t n, k;
		char enc[4];

		if (s[i] != 0 && s[i] < 0x80) { /* most titles are plain ASCII */
			if (o + 1 >= size)
				break;
			dst[o++] = (char)s[i++];
			continue;
		}
		n = normalize_utf8_decode(s + i, len - i, &cp);
		i += n;
		if (cp == 0)
			continue;
		if (cp < 0)
			cp = 0xFFFD;
		k = str_utf8_encode(cp, enc);
		if (o + k >= size)
			break;
		memcpy(dst + o, enc, k);
		o += k;
	}
	dst[o] = '\0';
	return o;
}

/* Same-length lower-casing: every mapping here keeps the UTF-8 length, so
 * the output stays byte-for-byte parallel to what the table saw. A
 * pattern with capitals or letters beyond ASCII is matched caselessly as
 * well (grammar_load.c pattern_options), which covers every other script. */
static int32_t
fold(int32_t cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + 32;
	if (cp < 0xC0)
		return cp;
	if (cp <= 0xDE)
		return cp == 0xD7 ? cp : cp + 32;
	if (cp >= 0x100 && cp <= 0x137)
		return cp | 1;
	if (cp >= 0x139 && cp <= 0x148)
		return (cp & 1) ? cp + 1 : cp;
	if (cp >= 0x14A && cp <= 0x177)
		return cp | 1;
	if (cp == 0x178)
		return 0xFF;
	if (cp >= 0x179 && cp <= 0x17E)
		return (cp & 1) ? cp + 1 : cp;
	if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2)
		return cp + 32;
	if (cp >= 0x410 && cp <= 0x42F)
		return cp + 32;
	if (cp >= 0x400 && cp <= 0x40F)
		return cp + 0x50;
	return cp;
}

enum cclass { C_CHAR, C_SPACE, C_SKIP, C_YES, C_NO, C_EMOJI };

static enum cclass
classify(int32_t cp, int32_t *mapped)
{
	*mapped = cp;
	if (cp == 0)
		return C_SKIP;
	if (cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0x1680 ||
	    (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
	    cp == 0x205F || cp == 0x3000)
		return C_SPACE;
	if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF ||
	    (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
	    (cp >= 0xE0000 && cp <= 0xE007F))
		return C_SKIP;
	switch (cp) {
	case 0x2018:
	case 0x2019:
	case 0x201A:
	case 0x201B:
	case 0x2032:
	case 0x02BC:
	case 0x60:
	case 0xB4:
		*mapped = '\'';
		return C_CHAR;
	case 0x201C:
	case 0x201D:
	case 0x201E:
	case 0x201F:
	case 0x2033:
	case 0xAB:
	case 0xBB:
		*mapped = '"';
		return C_CHAR;
	case 0x2212:
	case 0xFE58:
	case 0xFE63:
	case 0xFF0D:
		*mapped = '-';
		return C_CHAR;
	case 0x2026:
		*mapped = '.';
		return C_CHAR;
	case 0x1F44D:
	case 0x1F44C:
	case 0x2705:
	case 0x2714:
	case 0x2611:
	case 0x1F197:
	case 0x1F646:
	case 0x1F919:
		return C_YES;
	case 0x1F44E:
	case 0x274C:
	case 0x2716:
	case 0x1F645:
	case 0x1F6AB:
	case 0x26D4:
	case 0x274E:
		return C_NO;
	}
	if (cp >= 0x2010 && cp <= 0x2015) {
		*mapped = '-';
		return C_CHAR;
	}
	if ((cp >= 0x1F000 && cp <= 0x1FAFF) || (cp >= 0x2600 && cp <= 0x27BF) ||
	    (cp >= 0x2B00 && cp <= 0x2BFF) || (cp >= 0x2300 && cp <= 0x23FF) || cp == 0x3030 ||
	    cp == 0x303D)
		return C_EMOJI;
	*mapped = fold(cp);
	return C_CHAR;
}

/* Appends k bytes that came from input span [from, to). The text is
 * terminated once a pass ends, not after every byte. */
static inline int
emit(struct normalized *n, const char *bytes, size_t k, size_t from, size_t to)
{
	size_t i;

	if (n->len + k > NORMALIZE_MAX) {
		n->too_long = true;
		return -1;
	}
	for (i = 0; i < k; i++) {
		n->text[n->len] = bytes[i];
		n->from[n->len] = (uint16_t)from;
		n->to[n->len] = (uint16_t)to;
		n->len++;
	}
	return 0;
}

static inline int
is_collapsible(char c)
{
	switch (c) {
	case '?':
	case '!':
	case '.':
	case ',':
	case '-':
	case ':':
	case ';':
	case '~':
	case '*':
	case '_':
	case '=':
		return 1;
	}
	return 0;
}

/* Pass one: characters. Spaces, quotes, dashes, emoji, case, punctuation. */
static void
pass_chars(const unsigned char *s, size_t len, struct normalized *n)
{
	size_t i = 0;
	int space = 0;

	if (len > NORMALIZE_INPUT_MAX) {
		n->too_long = true;
		len = NORMALIZE_INPUT_MAX;
	}
	while (i < len) {
		int32_t cp, m;
		size_t start = i, k;
		enum cclass cls;
		char enc[4];

		if (s[i] >= 0x21 && s[i] < 0x7F && !is_collapsible((char)s[i]) && s[i] != '`') {
			/* Most of any message: plain ASCII that only needs lower-casing. */
			char c = (char)s[i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c + 32);
			if (space && n->len > 0 && emit(n, " ", 1, start, start) < 0)
				return;
			space = 0;
			i++;
			if (n->len >= NORMALIZE_MAX) {
				n->too_long = true;
				return;
			}
			n->text[n->len] = c;
			n->from[n->len] = (uint16_t)start;
			n->to[n->len] = (uint16_t)i;
			n->len++;
			continue;
		}
		if (s[i] == ' ') {
			space = 1;
			i++;
			continue;
		}
		i += normalize_utf8_decode(s + i, len - i, &cp);
		if (cp < 0)
			cp = 0xFFFD;
		cls = classify(cp, &m);
		if (cls == C_SKIP)
			continue;
		if (cls == C_SPACE || cls == C_EMOJI) {
			space = 1;
			continue;
		}
		if (space && n->len > 0 && emit(n, " ", 1, start, start) < 0)
			return;
		space = 0;
		if (cls == C_YES || cls == C_NO) {
			const char *tok = cls == C_YES ? ":yes:" : ":no:";
			if (n->len > 0 && n->text[n->len - 1] != ' ' &&
			    emit(n, " ", 1, start, start) < 0)
				return;
			if (emit(n, tok, strlen(tok), start, i) < 0)
				return;
			space = 1;
			continue;
		}
		if (m < 0x80 && is_collapsible((char)m) && n->len > 0 &&
		    n->text[n->len - 1] == (char)m) {
			n->to[n->len - 1] = (uint16_t)i;
			continue;
		}
		if ((m == '?' || m == '!' || m == '.') && n->len > 0 &&
		    (n->text[n->len - 1] == '?' || n->text[n->len - 1] == '!' ||
		     (n->text[n->len - 1] == '.' && m != '.'))) {
			/* "?!?" and "!!?" say one thing: a question if any '?'. */
			if (m == '?')
				n->text[n->len - 1] = '?';
			n->to[n->len - 1] = (uint16_t)i;
			continue;
		}
		k = str_utf8_encode(m, enc);
		if (emit(n, enc, k, start, i) < 0)
			return;
	}
}

static int
is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'' || c >= 0x80;
}

/* Length of a leading address to the bot at `t` (0 when none): "<@123>",
 * "@usher:example.org", "usher:", "hey usher,". */
static size_t
address_len(const char *t, size_t len)
{
	static const char *greet[] = {"hey ", "hi ",   "hello ", "yo ",
	                              "ok ",  "okay ", "oi ",    "dear "};
	size_t p = 0, g;

	if (strchr("<@hyodu", t[0]) == NULL)
		return 0;
	if (len >= 3 && t[0] == '<' && t[1] == '@') {
		p = 2;
		if (p < len && (t[p] == '!' || t[p] == '&'))
			p++;
		while (p < len && t[p] >= '0' && t[p] <= '9')
			p++;
		if (p < len && t[p] == '>')
			p++;
		else
			return 0;
	} else if (t[0] == '@') {
		while (p < len && t[p] != ' ')
			p++;
	} else {
		for (g = 0; g < sizeof(greet) / sizeof(greet[0]); g++) {
			size_t gl = strlen(greet[g]);
			if (len > gl && strncmp(t, greet[g], gl) == 0) {
				p = gl;
				break;
			}
			if (len > gl && strncmp(t, greet[g], gl - 1) == 0 && t[gl - 1] == ',' &&
			    t[gl] == ' ') {
				p = gl + 1;
				break;
			}
		}
		if (len - p >= 5 && strncmp(t + p, "usher", 5) == 0 &&
		    (len - p == 5 || !is_word_byte((unsigned char)t[p + 5])))
			p += 5;
		else
			return 0;
	}
	while (p < len && (t[p] == ' ' || t[p] == ',' || t[p] == ':' || t[p] == '!'))
		p++;
	return p;
}

/* Pass two: words. The bot's address, then shorthand. */
static void
pass_words(const struct normalized *in, struct normalized *out)
{
	const char *t = in->text;
	size_t len = in->len, p = 0, a, guard;

	for (guard = 0; guard < 4 && p < len; guard++) {
		a = address_len(t + p, len - p);
		if (a == 0)
			break;
		p += a;
	}
	while (p < len) {
		size_t w = p, r, k;

		if (!is_word_byte((unsigned char)t[p])) {
			if (t[p] == ' ' && (out->len == 0 || out->text[out->len - 1] == ' ')) {
				p++;
				continue;
			}
			if (emit(out, t + p, 1, in->from[p], in->to[p]) < 0)
				return;
			p++;
			continue;
		}
		while (w < len && is_word_byte((unsigned char)t[w]))
			w++;
		k = w - p;
		r = shorthand_find(t + p, k);
		if (r < NSHORTHAND) {
			if (emit(out, shorthand[r].to, shorthand[r].to_len, in->from[p],
			         in->to[w - 1]) < 0)
				return;
		} else {
			if (out->len + k > NORMALIZE_MAX) {
				out->too_long = true;
				return;
			}
			memcpy(out->text + out->len, t + p, k);
			memcpy(out->from + out->len, in->from + p, k * sizeof(*out->from));
			memcpy(out->to + out->len, in->to + p, k * sizeof(*out->to));
			out->len += k;
		}
		p = w;
	}
	while (out->len > 0 && out->text[out->len - 1] == ' ')
		out->len--;
}

/* Whether pass two would change `n`: an address to cut or shorthand to
 * spell out (pass one leaves no doubled, leading or trailing spaces). */
static bool
has_words_work(const struct normalized *n)
{
	const char *t = n->text;
	size_t len = n->len, p = 0, w;

	if (len > 0 && address_len(t, len) > 0)
		return true;
	while (p < len) {
		if (!is_word_byte((unsigned char)t[p])) {
			p++;
			continue;
		}
		for (w = p; w < len && is_word_byte((unsigned char)t[w]); w++)
			;
		if (shorthand_find(t + p, w - p) < NSHORTHAND)
			return true;
		p = w;
	}
	return false;
}

int
normalize_text(const char *src, size_t len, struct normalized *out)
{
	struct normalized tmp;

	out->len = 0;
	out->too_long = false;
	pass_chars((const unsigned char *)src, len, out);
	while (out->len > 0 && out->text[out->len - 1] == ' ') /* cut off mid-message */
		out->len--;
	/* Most messages hold no shorthand and no address: pass one's text is
	 * final, and copying it to run pass two is skipped. */
	if (has_words_work(out)) {
		tmp.len = out->len;
		tmp.too_long = out->too_long;
		memcpy(tmp.text, out->text, out->len);
		memcpy(tmp.from, out->from, out->len * sizeof(*tmp.from));
		memcpy(tmp.to, out->to, out->len * sizeof(*tmp.to));
		out->len = 0;
		pass_words(&tmp, out);
	}
	out->text[out->len] = '\0';
	return out->too_long ? -1 : 0;
}

void
normalize_span(const struct normalized *n, size_t start, size_t end, size_t *src_start,
               size_t *src_end)
{
	*src_start = n->from[start];
	*src_end = n->to[end - 1];
	if (*src_end < *src_start)
		*src_end = *src_start;
}
