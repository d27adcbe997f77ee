/*
 * The document parser of jsonread.c, included there once for each string
 * scan (SSE2 or the portable words, and AVX on x86-64): the includer defines
 * DOC_BODY (the function's name), DOC_SCAN (the scan, as scan_len_k()),
 * DOC_SCAN_K (its constants, as scan_k()), DOC_ITEMS (a closed container's
 * copy, as arena_items()) and DOC_ATTR (attributes, as a target).
 *
 * DOC_BODY(ps, out, big) parses the one document of the copy [ps->begin,
 * ps->end). Whitespace is skipped only where the byte expected next is not
 * there, so compact JSON goes from token to token without it. A scalar is
 * written straight into its place: the member whose key came before it,
 * or the array slot taken when its array opened or at the ',' before it.
 * Unless `big`, the scratch stacks were sized for the whole document
 * before (doc_reserve()) and no string, number or container can be longer
 * than SL_VALUE_LEN_MAX, so neither is checked per value.
 */

DOC_ATTR static inline __attribute__((always_inline)) int
DOC_BODY(struct parser *ps, struct sl_value *out, const bool big)
{
	struct scratch *sc = ps->sc;
	const char *p = ps->begin, *q;
	size_t depth = 0;
	struct frame *f = NULL;
	/* Whether the innermost open container is an object. */
	bool in_obj = false;
	struct sl_value v, top;
	/* Where the next scalar goes. */
	struct sl_value *dst = &top;
	/* The next free member and item of the scratch stacks. */
	struct sl_member *mp = sc->mems;
	struct sl_value *vp = sc->vals;
	size_t n;
	/* The string scan's constants, in registers for the whole parse. */
	const __typeof__(DOC_SCAN_K()) k = DOC_SCAN_K();

value:
	if (likely(*p == '"')) {
		/* p is at the opening quote; the string goes to *dst. */
		n = DOC_SCAN(p + 1, k);
		q = p + 1 + n;
		if (likely(*q == '"')) {
			if (big && unlikely(n > SL_VALUE_LEN_MAX))
				return text_too_long(n);
			*dst = sl_str_ref(p + 1, (uint32_t)n);
			p = q + 1;
			goto next;
		}
		p = parse_string_slow(ps, p + 1, q, dst);
		if (unlikely(p == NULL))
			return -1;
		goto next;
	}
	/* Objects and numbers next, without the switch. */
	if (likely(*p == '{'))
		goto open;
	if ((unsigned char)(*p - '0') < 10)
		goto number;
	if (*p == '[')
		goto open;
	switch (*p) {
	case ' ':
	case '\t':
	case '\n':
	case '\r':
		p = skip_ws(p + 1);
		goto value;
	case '-':
		if (literal(p, "-Infinity", 9)) {
			p += 9;
			*dst = sl_double(-INFINITY);
			goto next;
		}
		__attribute__((fallthrough));
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
	number:
		p = parse_number(ps, p, dst, big);
		if (unlikely(p == NULL))
			return -1;
		goto next;
	case 't':
		if (!literal(p, "true", 4))
			break;
		p += 4;
		*dst = sl_bool(true);
		goto next;
	case 'f':
		if (!literal(p, "false", 5))
			break;
		p += 5;
		*dst = sl_bool(false);
		goto next;
	case 'n':
		if (!literal(p, "null", 4))
			break;
		p += 4;
		*dst = sl_null();
		goto next;
	case 'I':
		/* Python's json.loads() takes Infinity, -Infinity and NaN,
		 * and json.dumps() writes them (as sl_json_write() does). */
		if (!literal(p, "Infinity", 8))
			break;
		p += 8;
		*dst = sl_double(INFINITY);
		goto next;
	case 'N':
		if (!literal(p, "NaN", 3))
			break;
		p += 3;
		*dst = sl_double(NAN);
		goto next;
	case '{':
	case '[':
	open:
		if (unlikely(depth >= ps->depth_max))
			return perr(ps, p,
			            "nesting is deeper than the limit of %u",
			            ps->depth_max);
		if (big && unlikely(depth == sc->cap_frames) &&
		    grow((void **)&sc->frames, &sc->cap_frames, depth + 1,
		         sizeof(*f)) < 0)
			return -1;
		f = &sc->frames[depth++];
		in_obj = *p == '{';
		f->is_obj = in_obj;
		p++;
		if (in_obj) {
			f->start = (size_t)(mp - sc->mems);
			if (likely(*p == '"')) {
				p++;
				goto key_text;
			}
			p = skip_ws(p);
			if (*p == '}') {
				p++;
				v = sl_object_ref(NULL, 0);
				goto close;
			}
			goto key;
		}
		f->start = (size_t)(vp - sc->vals);
		p = skip_ws(p);
		if (*p == ']') {
			p++;
			v = sl_array_ref(NULL, 0);
			goto close;
		}
		goto item;
	default:
		break;
	}
	return perr(ps, p, "expected a value");

key:
	if (unlikely(*p != '"')) {
		p = skip_ws(p);
		if (*p != '"')
			return perr(ps, p, "expected a string key");
	}
	p++;
key_text:
	/* p is just past the key's opening quote. */
	if (big && unlikely(mp == sc->mems + sc->cap_mems)) {
		size_t i = (size_t)(mp - sc->mems);
		if (grow((void **)&sc->mems, &sc->cap_mems, i + 1,
		         sizeof(*sc->mems)) < 0)
			return -1;
		mp = sc->mems + i;
	}
	n = DOC_SCAN(p, k);
	q = p + n;
	if (likely(*q == '"')) {
		if (big && unlikely(n > SL_VALUE_LEN_MAX))
			return text_too_long(n);
		mp->key = p;
		mp->key_len = (uint32_t)n;
		/* Compact JSON: ':' and a string value right after, which
		 * goes on to the object's next member (no test of in_obj). */
		if (likely(load2(q + 1) == two(':', '"'))) {
			p = q + 2;
			n = DOC_SCAN(p + 1, k);
			q = p + 1 + n;
			if (likely(*q == '"')) {
				if (big && unlikely(n > SL_VALUE_LEN_MAX))
					return text_too_long(n);
				mp->val = sl_str_ref(p + 1, (uint32_t)n);
				mp++;
				p = q + 1;
				goto obj_next;
			}
			p = parse_string_slow(ps, p + 1, q, &mp->val);
			mp++;
			if (unlikely(p == NULL))
				return -1;
			goto obj_next;
		}
		dst = &mp->val;
		mp++;
		p = q + 1;
	} else {
		struct sl_value kv;
		p = parse_string_slow(ps, p, q, &kv);
		if (unlikely(p == NULL))
			return -1;
		mp->key = kv.u.s;
		mp->key_len = kv.len;
		dst = &mp->val;
		mp++;
	}
	if (unlikely(*p != ':')) {
		p = skip_ws(p);
		if (*p != ':')
			return perr(ps, p, "expected ':' after an object key");
	}
	p++;
	goto value;

item:
	/* An array's next item: its slot, then the value. */
	if (big && unlikely(vp == sc->vals + sc->cap_vals)) {
		size_t i = (size_t)(vp - sc->vals);
		if (grow((void **)&sc->vals, &sc->cap_vals, i + 1,
		         sizeof(*sc->vals)) < 0)
			return -1;
		vp = sc->vals + i;
	}
	dst = vp++;
	goto value;

close:
	/* `v` is the container just closed: into its parent's last member
	 * or item. */
	depth--;
	if (unlikely(depth == 0)) {
		top = v;
		goto done;
	}
	/* The parent's frame: below, in the same array (the stack grows only
	 * when a container opens). */
	f--;
	in_obj = f->is_obj;
	if (in_obj) {
		mp[-1].val = v;
		goto obj_next;
	}
	vp[-1] = v;
	goto arr_next;

next:
	if (!in_obj)
		goto arr_next;
obj_next:
	if (likely(load2(p) == two(',', '"'))) {
		p += 2;
		goto key_text;
	}
	if (*p == ',') {
		p++;
		goto key;
	}
	if (likely(*p == '}')) {
		p++;
		struct sl_member *m0 = sc->mems + f->start;
		n = (size_t)(mp - m0);
		struct sl_member *m =
		        DOC_ITEMS(ps->arena, m0, n, sizeof(*m), big);
		if (m == NULL)
			return -1;
		mp = m0;
		v = sl_object_ref(m, (uint32_t)n);
		goto close;
	}
	if (is_ws((unsigned char)*p)) {
		p = skip_ws(p + 1);
		goto obj_next;
	}
	return perr(ps, p, "expected ',' or '}' after an object member");

arr_next:
	/* Also after the top value (depth 0), which no ',' or ']' follows. */
	if (likely(*p == ',')) {
		if (unlikely(depth == 0))
			goto done;
		p++;
		goto item;
	}
	if (likely(*p == ']')) {
		if (unlikely(depth == 0))
			goto done;
		p++;
		struct sl_value *v0 = sc->vals + f->start;
		n = (size_t)(vp - v0);
		struct sl_value *items =
		        DOC_ITEMS(ps->arena, v0, n, sizeof(*items), big);
		if (items == NULL)
			return -1;
		vp = v0;
		v = sl_array_ref(items, (uint32_t)n);
		goto close;
	}
	if (is_ws((unsigned char)*p)) {
		p = skip_ws(p + 1);
		goto arr_next;
	}
	if (depth == 0)
		goto done;
	return perr(ps, p, "expected ',' or ']' after an array element");

done:
	p = skip_ws(p);
	if (p != ps->end)
		return perr(ps, p, "unexpected data after the JSON value");
	*out = top;
	return 0;
}
