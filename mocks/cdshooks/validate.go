package cdshooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Unsafe classes: a body a real host could crash on.
const (
	UnsafeInvalidJSON = "invalid-json"
	UnsafeWrongTypes  = "wrong-types"
	UnsafeOversized   = "oversized"
)

// DefaultMaxResponseBytes bounds a service response when no limit is given.
const DefaultMaxResponseBytes int64 = 1 << 20

// Problem is one spec violation in a response that a tolerant host survives.
// Path is a JSON-path-like location ("cards[0].summary").
type Problem struct {
	Path string `json:"path"`
	Msg  string `json:"msg"`
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// ValidateResponse parses a CDS service response body. It never panics.
//
// unsafe is non-empty when a real host could crash on the body:
//   - "oversized": the body is longer than maxBytes (DefaultMaxResponseBytes
//     when maxBytes <= 0);
//   - "invalid-json": empty, truncated or otherwise not JSON;
//   - "wrong-types": valid JSON whose values have the wrong JSON type where a
//     host reads them (the body or a card not an object, cards not an array,
//     summary not a string, ...). Keys are matched the way the most lenient
//     common decoder (Go's encoding/json) matches them, case-insensitively,
//     so a body that passes decodes into Response with encoding/json.
//
// JSON null is treated as absent. When unsafe is non-empty resp is empty and
// problems holds the one problem that made it unsafe.
//
// problems lists the violations a tolerant host survives: missing required
// fields, a summary over MaxSummaryChars, an unknown indicator, link type or
// selection behaviour, an action type other than create|update|delete, and
// PAMA rating codes outside PAMARatingCodes (tolerated, noted). Unknown
// fields are fine and are not reported.
func ValidateResponse(body []byte, maxBytes int64) (resp Response, problems []Problem, unsafe string) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	if int64(len(body)) > maxBytes {
		return Response{}, []Problem{{Path: "$", Msg: fmt.Sprintf("body is larger than %d bytes", maxBytes)}}, UnsafeOversized
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Response{}, []Problem{{Path: "$", Msg: "body is empty"}}, UnsafeInvalidJSON
	}
	if !json.Valid(body) {
		return Response{}, []Problem{{Path: "$", Msg: "body is not valid JSON: " + jsonError(body)}}, UnsafeInvalidJSON
	}
	v := &validator{}
	resp = v.response(body)
	if v.wrong != nil {
		return Response{}, []Problem{*v.wrong}, UnsafeWrongTypes
	}
	return resp, v.problems, ""
}

func jsonError(body []byte) string {
	var x any
	if err := json.Unmarshal(body, &x); err != nil {
		return err.Error()
	}
	return "invalid"
}

// validator walks a syntactically valid body. The first wrong type it meets
// is kept in wrong and the walk stops reading further values.
type validator struct {
	problems []Problem
	wrong    *Problem
}

func (v *validator) problem(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) wrongType(path, want string, raw json.RawMessage) {
	if v.wrong == nil {
		v.wrong = &Problem{Path: path, Msg: fmt.Sprintf("must be %s, got %s", want, kindOf(raw))}
	}
}

// kindOf names the JSON type of a valid raw value.
func kindOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

func isNull(raw json.RawMessage) bool { return kindOf(raw) == "null" }

// member is one key/value pair of a JSON object, in document order.
type member struct {
	key string
	val json.RawMessage
}

// object is a JSON object's members, keeping duplicates and order.
type object []member

// members splits a raw JSON object into its members. ok is false when raw is
// not an object.
func members(raw json.RawMessage) (object, bool) {
	if kindOf(raw) != "object" {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return nil, false
	}
	var out object
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := tok.(string)
		if !ok {
			return nil, false
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, false
		}
		out = append(out, member{key: key, val: val})
	}
	return out, true
}

// get returns the value of the last member named exactly key that is not
// null (what a spec-following host reads).
func (o object) get(key string) (json.RawMessage, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].key == key {
			if isNull(o[i].val) {
				return nil, false
			}
			return o[i].val, true
		}
	}
	return nil, false
}

// each calls fn for every non-null member whose key matches key the way Go's
// encoding/json matches struct fields (exactly or case-insensitively).
func (o object) each(key string, fn func(val json.RawMessage)) {
	for _, m := range o {
		if (m.key == key || strings.EqualFold(m.key, key)) && !isNull(m.val) {
			fn(m.val)
		}
	}
}

// str type-checks every member matching key as a string and returns the
// exact-key value.
func (v *validator) str(path string, o object, key string) (string, bool) {
	o.each(key, func(val json.RawMessage) {
		if kindOf(val) != "string" {
			v.wrongType(path+"."+key, "a string", val)
		}
	})
	raw, ok := o.get(key)
	if !ok || kindOf(raw) != "string" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func (v *validator) boolean(path string, o object, key string) bool {
	o.each(key, func(val json.RawMessage) {
		if kindOf(val) != "boolean" {
			v.wrongType(path+"."+key, "a boolean", val)
		}
	})
	raw, ok := o.get(key)
	return ok && bytes.Equal(bytes.TrimSpace(raw), []byte("true"))
}

// arr type-checks every member matching key as an array whose elements are
// checked by elem, and returns the exact-key value's elements.
func (v *validator) arr(path string, o object, key string, elem func(path string, raw json.RawMessage)) ([]json.RawMessage, bool) {
	o.each(key, func(val json.RawMessage) {
		var items []json.RawMessage
		if kindOf(val) != "array" || json.Unmarshal(val, &items) != nil {
			v.wrongType(path+"."+key, "an array", val)
			return
		}
		if elem == nil {
			return
		}
		for i, it := range items {
			elem(fmt.Sprintf("%s.%s[%d]", path, key, i), it)
		}
	})
	raw, ok := o.get(key)
	if !ok {
		return nil, false
	}
	var items []json.RawMessage
	if kindOf(raw) != "array" || json.Unmarshal(raw, &items) != nil {
		return nil, false
	}
	return items, true
}

// obj type-checks every member matching key as an object (checked by check)
// and returns the exact-key value's members.
func (v *validator) obj(path string, o object, key string, check func(path string, o object)) (object, bool) {
	o.each(key, func(val json.RawMessage) {
		m, ok := members(val)
		if !ok {
			v.wrongType(path+"."+key, "an object", val)
			return
		}
		if check != nil {
			check(path+"."+key, m)
		}
	})
	raw, ok := o.get(key)
	if !ok {
		return nil, false
	}
	return members(raw)
}

// elemObject returns an array element's members, flagging non-objects
// (null elements are wrong too: a host dereferences each element).
func (v *validator) elemObject(path string, raw json.RawMessage) (object, bool) {
	m, ok := members(raw)
	if !ok {
		v.wrongType(path, "an object", raw)
	}
	return m, ok
}

// Type checks only: one function per model type, applied to every element
// and every case-variant key, so that encoding/json can decode what passes.

func (v *validator) checkCoding(path string, o object) {
	v.str(path, o, "system")
	v.str(path, o, "code")
	v.str(path, o, "display")
}

func (v *validator) checkSource(path string, o object) {
	v.str(path, o, "label")
	v.str(path, o, "url")
	v.str(path, o, "icon")
	v.obj(path, o, "topic", v.checkCoding)
}

func (v *validator) checkAction(path string, raw json.RawMessage) {
	o, ok := v.elemObject(path, raw)
	if !ok {
		return
	}
	v.str(path, o, "type")
	v.str(path, o, "description")
	v.str(path, o, "resourceId")
}

func (v *validator) checkSuggestion(path string, raw json.RawMessage) {
	o, ok := v.elemObject(path, raw)
	if !ok {
		return
	}
	v.str(path, o, "label")
	v.str(path, o, "uuid")
	v.boolean(path, o, "isRecommended")
	v.arr(path, o, "actions", v.checkAction)
}

func (v *validator) checkLink(path string, raw json.RawMessage) {
	o, ok := v.elemObject(path, raw)
	if !ok {
		return
	}
	for _, k := range []string{"label", "url", "type", "appContext"} {
		v.str(path, o, k)
	}
}

func (v *validator) checkCodingElem(path string, raw json.RawMessage) {
	if o, ok := v.elemObject(path, raw); ok {
		v.checkCoding(path, o)
	}
}

func (v *validator) checkCard(path string, raw json.RawMessage) {
	o, ok := v.elemObject(path, raw)
	if !ok {
		return
	}
	for _, k := range []string{"uuid", "summary", "detail", "indicator", "selectionBehavior"} {
		v.str(path, o, k)
	}
	v.obj(path, o, "source", v.checkSource)
	v.arr(path, o, "suggestions", v.checkSuggestion)
	v.arr(path, o, "overrideReasons", v.checkCodingElem)
	v.arr(path, o, "links", v.checkLink)
}

// response type-checks the whole body first, then reads it and notes spec
// problems.
func (v *validator) response(body []byte) Response {
	top, ok := members(body)
	if !ok {
		v.wrongType("$", "an object", body)
		return Response{}
	}
	v.arr("$", top, "cards", v.checkCard)
	v.arr("$", top, "systemActions", v.checkAction)
	ext, hasExt := top.get("extension")
	var extObj object
	if hasExt {
		if m, ok := members(ext); ok {
			extObj = m
			// The host reads extension.systemActions exactly as it reads the
			// top-level list, so its types matter as much.
			v.arr("$.extension", m, "systemActions", v.checkAction)
		}
	}
	if v.wrong != nil {
		return Response{}
	}

	// Reading: the types are known to be right from here on, so the
	// accessors are called without element checks.
	var resp Response
	cards, ok := v.arr("$", top, "cards", nil)
	if !ok {
		v.problem("$.cards", "is required (an array; [] means no advice)")
	}
	for i, raw := range cards {
		o, _ := members(raw)
		resp.Cards = append(resp.Cards, v.card(fmt.Sprintf("$.cards[%d]", i), o))
	}
	if acts, ok := v.arr("$", top, "systemActions", nil); ok {
		for i, raw := range acts {
			resp.SystemActions = append(resp.SystemActions, v.action(fmt.Sprintf("$.systemActions[%d]", i), raw))
		}
	}
	if hasExt && extObj == nil {
		v.problem("$.extension", "is %s, not an object; ignored", kindOf(ext))
	}
	if extObj != nil {
		if acts, ok := v.arr("$.extension", extObj, "systemActions", nil); ok {
			for i, raw := range acts {
				resp.SystemActions = append(resp.SystemActions, v.action(fmt.Sprintf("$.extension.systemActions[%d]", i), raw))
				resp.LegacySystemActions++
			}
		}
	}
	return resp
}

func (v *validator) card(path string, o object) Card {
	var c Card
	c.UUID, _ = v.str(path, o, "uuid")
	var ok bool
	if c.Summary, ok = v.str(path, o, "summary"); !ok || strings.TrimSpace(c.Summary) == "" {
		v.problem(path+".summary", "is required")
	} else if n := utf8.RuneCountInString(c.Summary); n > MaxSummaryChars {
		v.problem(path+".summary", "is %d characters, longer than %d", n, MaxSummaryChars)
	}
	c.Detail, _ = v.str(path, o, "detail")
	if c.Indicator, ok = v.str(path, o, "indicator"); !ok {
		v.problem(path+".indicator", "is required")
	} else if !slices.Contains([]string{IndicatorInfo, IndicatorWarning, IndicatorCritical}, c.Indicator) {
		v.problem(path+".indicator", "is %q, not info|warning|critical", c.Indicator)
	}
	if src, ok := v.obj(path, o, "source", nil); !ok {
		v.problem(path+".source", "is required")
	} else {
		c.Source = v.source(path+".source", src)
	}
	sugs, hasSugs := v.arr(path, o, "suggestions", nil)
	for i, raw := range sugs {
		c.Suggestions = append(c.Suggestions, v.suggestion(fmt.Sprintf("%s.suggestions[%d]", path, i), raw))
	}
	c.SelectionBehavior, _ = v.str(path, o, "selectionBehavior")
	switch {
	case c.SelectionBehavior == "" && hasSugs && len(sugs) > 0:
		v.problem(path+".selectionBehavior", "is required when suggestions are present (at-most-one|any)")
	case c.SelectionBehavior != "" && c.SelectionBehavior != "at-most-one" && c.SelectionBehavior != "any":
		v.problem(path+".selectionBehavior", "is %q, not at-most-one|any", c.SelectionBehavior)
	}
	reasons, _ := v.arr(path, o, "overrideReasons", nil)
	for i, raw := range reasons {
		ro, _ := members(raw)
		cd := v.coding(ro)
		if cd.Code == "" || cd.System == "" {
			v.problem(fmt.Sprintf("%s.overrideReasons[%d]", path, i), "needs code and system")
		}
		c.OverrideReasons = append(c.OverrideReasons, cd)
	}
	links, _ := v.arr(path, o, "links", nil)
	for i, raw := range links {
		c.Links = append(c.Links, v.link(fmt.Sprintf("%s.links[%d]", path, i), raw))
	}
	return c
}

func (v *validator) coding(o object) Coding {
	var c Coding
	c.System, _ = v.str("", o, "system")
	c.Code, _ = v.str("", o, "code")
	c.Display, _ = v.str("", o, "display")
	return c
}

func (v *validator) source(path string, o object) Source {
	var s Source
	var ok bool
	if s.Label, ok = v.str(path, o, "label"); !ok || s.Label == "" {
		v.problem(path+".label", "is required")
	}
	s.URL, _ = v.str(path, o, "url")
	s.Icon, _ = v.str(path, o, "icon")
	if t, ok := v.obj(path, o, "topic", nil); ok {
		cd := v.coding(t)
		s.Topic = &cd
	}
	return s
}

func (v *validator) suggestion(path string, raw json.RawMessage) Suggestion {
	o, _ := members(raw)
	var s Suggestion
	var ok bool
	if s.Label, ok = v.str(path, o, "label"); !ok || s.Label == "" {
		v.problem(path+".label", "is required")
	}
	s.UUID, _ = v.str(path, o, "uuid")
	s.IsRecommended = v.boolean(path, o, "isRecommended")
	acts, _ := v.arr(path, o, "actions", nil)
	for i, a := range acts {
		s.Actions = append(s.Actions, v.action(fmt.Sprintf("%s.actions[%d]", path, i), a))
	}
	return s
}

func (v *validator) action(path string, raw json.RawMessage) Action {
	o, _ := members(raw)
	var a Action
	a.Type, _ = v.str(path, o, "type")
	switch a.Type {
	case "create", "update", "delete":
	case "":
		v.problem(path+".type", "is required (create|update|delete)")
	default:
		v.problem(path+".type", "is %q, not create|update|delete", a.Type)
	}
	var ok bool
	if a.Description, ok = v.str(path, o, "description"); !ok || a.Description == "" {
		v.problem(path+".description", "is required")
	}
	if res, ok := o.get("resource"); ok {
		a.Resource = append(json.RawMessage(nil), bytes.TrimSpace(res)...)
	}
	a.ResourceID, _ = v.str(path, o, "resourceId")
	switch a.Type {
	case "create", "update":
		if len(a.Resource) == 0 {
			v.problem(path+".resource", "is required for %s", a.Type)
		} else if kindOf(a.Resource) != "object" {
			v.problem(path+".resource", "is %s, not a FHIR resource object", kindOf(a.Resource))
		}
	case "delete":
		if a.ResourceID == "" && len(a.Resource) == 0 {
			v.problem(path+".resourceId", "should name the resource to delete")
		}
	}
	if code, ok := a.PAMARating(); ok && !slices.Contains(PAMARatingCodes, code) {
		v.problem(path+".resource.extension", "PAMA rating code %q is not one of %s (tolerated)", code, strings.Join(PAMARatingCodes, "|"))
	}
	return a
}

func (v *validator) link(path string, raw json.RawMessage) Link {
	o, _ := members(raw)
	var l Link
	var ok bool
	if l.Label, ok = v.str(path, o, "label"); !ok || l.Label == "" {
		v.problem(path+".label", "is required")
	}
	if l.URL, ok = v.str(path, o, "url"); !ok || l.URL == "" {
		v.problem(path+".url", "is required")
	}
	l.Type, _ = v.str(path, o, "type")
	switch l.Type {
	case "absolute", "smart":
	case "":
		v.problem(path+".type", "is required (absolute|smart)")
	default:
		v.problem(path+".type", "is %q, not absolute|smart", l.Type)
	}
	l.AppContext, _ = v.str(path, o, "appContext")
	if l.AppContext != "" && l.Type != "smart" {
		v.problem(path+".appContext", "is only meaningful for smart links")
	}
	return l
}
