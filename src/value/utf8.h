/*
 * UTF-8 validation for the value layer's readers (internal).
 */
#ifndef SLUICE_VALUE_UTF8_H
#define SLUICE_VALUE_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/**
 * Offset of the first byte in s[0, n) that does not start a valid UTF-8
 * sequence (overlong forms, surrogates and code points past U+10FFFF are
 * invalid), or n.
 */
static inline size_t
sl_utf8_check(const unsigned char *s, size_t n)
{
	const uint64_t hi = UINT64_C(0x8080808080808080);
	size_t i = 0;
	for (;;) {
		while (i + 16 <= n) {
			uint64_t a, b;
			memcpy(&a, s + i, 8);
			memcpy(&b, s + i + 8, 8);
			if (((a | b) & hi) == 0) {
				i += 16;
				continue;
			}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			if ((a & hi) != 0)
				i += (size_t)__builtin_ctzll(a & hi) / 8;
			else
				i += 8 + (size_t)__builtin_ctzll(b & hi) / 8;
#endif
			break;
		}
		while (i < n && s[i] < 0x80)
			i++;
		if (i >= n)
			return n;
		unsigned c = s[i];
		if (c < 0xc2 || c > 0xf4)
			return i;
		if (c < 0xe0) {
			if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80)
				return i;
			i += 2;
			continue;
		}
		if (i + 2 >= n)
			return i;
		unsigned c1 = s[i + 1];
		if ((c1 & 0xc0) != 0x80 || (s[i + 2] & 0xc0) != 0x80)
			return i;
		if (c < 0xf0) {
			if ((c == 0xe0 && c1 < 0xa0) ||
			    (c == 0xed && c1 > 0x9f))
				return i;
			i += 3;
			continue;
		}
		if (i + 3 >= n || (s[i + 3] & 0xc0) != 0x80)
			return i;
		if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f))
			return i;
		i += 4;
	}
}

#endif /* SLUICE_VALUE_UTF8_H */
