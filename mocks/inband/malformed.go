package inband

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// writeMalformed sends the answer the real handler produced (captured in
// rec) with its body corrupted as spec.Malform says, keeping the handler's
// status and headers. seed drives the choices of MalformWrongTypes.
func writeMalformed(w http.ResponseWriter, rec *discardWriter, spec Spec, seed uint64) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	var body []byte
	switch spec.Malform {
	case MalformInvalidJSON:
		body = truncate(rec.body.Bytes())
	case MalformWrongTypes:
		if spec.Field != "" {
			body = fieldWrongTypes(rec.body.Bytes(), seed, spec.Field)
			break
		}
		body = wrongTypes(rec.body.Bytes(), seed)
	case MalformOversized:
		limit := spec.Bytes
		if limit <= 0 {
			limit = DefaultOversizedBytes
		}
		if spec.Field != "" {
			body = fieldOversize(rec.body.Bytes(), limit, spec.Field)
			break
		}
		body = oversize(rec.body.Bytes(), limit)
	default:
		body = rec.body.Bytes()
	}
	h := w.Header()
	for k, v := range rec.header {
		h[k] = slices.Clone(v)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// truncate cuts body half-way. An empty body becomes a lone "{", which is
// not JSON either.
func truncate(body []byte) []byte {
	if len(body) == 0 {
		return []byte("{")
	}
	return slices.Clone(body[:len(body)/2])
}

// wrongTypes replaces the string values of a seeded subset of keys with
// values of other JSON types. A body that is not JSON, or holds no string
// values, comes back unchanged.
func wrongTypes(body []byte, seed uint64) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body
	}
	type slot struct {
		obj map[string]any
		key string
	}
	var slots []slot
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if _, ok := t[k].(string); ok {
					slots = append(slots, slot{obj: t, key: k})
					continue
				}
				walk(t[k])
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	if len(slots) == 0 {
		return body
	}
	rng := rand.New(rand.NewPCG(seed, 0x3a1f))
	replacements := []func() any{
		func() any { return json.Number("123") },
		func() any { return map[string]any{"x": json.Number("1")} },
		func() any { return []any{json.Number("1"), json.Number("2")} },
		func() any { return true },
	}
	changed := 0
	for _, s := range slots {
		if rng.IntN(3) == 0 {
			s.obj[s.key] = replacements[rng.IntN(len(replacements))]()
			changed++
		}
	}
	if changed == 0 {
		s := slots[rng.IntN(len(slots))]
		s.obj[s.key] = replacements[0]()
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return body
	}
	return bytes.TrimRight(out.Bytes(), "\n")
}

// oversize makes body longer than limit while keeping it the JSON it was: a
// JSON object gets a huge string field first; anything else is padded with
// trailing whitespace.
func oversize(body []byte, limit int) []byte {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	pad := limit - len(body) + 1
	if pad < 1 {
		pad = 1
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return append(slices.Clone(body), bytes.Repeat([]byte(" "), pad)...)
	}
	rest := bytes.TrimLeft(trimmed[1:], " \t\r\n")
	var out bytes.Buffer
	out.Grow(len(body) + pad + len(OversizedField) + 8)
	out.WriteString(`{"` + OversizedField + `":"`)
	out.Write(bytes.Repeat([]byte("x"), pad))
	out.WriteByte('"')
	if len(rest) > 0 && rest[0] != '}' {
		out.WriteByte(',')
	}
	out.Write(rest)
	return out.Bytes()
}

// fieldSlots decodes body and finds every string value stored under key.
func fieldSlots(body []byte, key string) (doc any, slots []map[string]any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, false
	}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if _, isString := t[key].(string); isString {
				slots = append(slots, t)
			}
			for _, k := range slices.Sorted(maps.Keys(t)) {
				if k != key {
					walk(t[k])
				}
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(doc)
	return doc, slots, true
}

func encodeJSON(v any, fallback []byte) []byte {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fallback
	}
	return bytes.TrimRight(out.Bytes(), "\n")
}

// fieldWrongTypes replaces every string value of key with a seeded value of
// another JSON type. A body that is not JSON, or has no such value, comes
// back unchanged.
func fieldWrongTypes(body []byte, seed uint64, key string) []byte {
	doc, slots, ok := fieldSlots(body, key)
	if !ok || len(slots) == 0 {
		return body
	}
	rng := rand.New(rand.NewPCG(seed, 0x3a20))
	replacements := []func() any{
		func() any { return json.Number("123") },
		func() any { return map[string]any{"x": json.Number("1")} },
		func() any { return []any{json.Number("1"), json.Number("2")} },
		func() any { return true },
	}
	for _, obj := range slots {
		obj[key] = replacements[rng.IntN(len(replacements))]()
	}
	return encodeJSON(doc, body)
}

// fieldOversize inflates every string value of key, spreading the growth
// evenly, so the body exceeds limit while staying the JSON it was (a giant
// free-text entry). Without such a value it falls back to oversize.
func fieldOversize(body []byte, limit int, key string) []byte {
	doc, slots, ok := fieldSlots(body, key)
	if !ok || len(slots) == 0 {
		return oversize(body, limit)
	}
	pad := limit - len(body) + 1
	each := max(1, (pad+len(slots)-1)/len(slots))
	filler := strings.Repeat("x", each)
	for _, obj := range slots {
		obj[key] = obj[key].(string) + " " + filler
	}
	return encodeJSON(doc, body)
}
