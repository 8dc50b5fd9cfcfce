// Package fhirtest owns test helpers for FHIR JSON shared by the mocks'
// conformance tests (the httptest convention: the helper package for fhir is
// fhirtest). It is imported only from _test.go files.
package fhirtest

import (
	"fmt"
	"strings"
)

// ShapeDiff compares the shape of got against want: the same object keys,
// recursively, ignoring values. Arrays whose elements are keyed (extensions
// by url, parameters and operations by name, contained resources by
// resourceType, Bundle entries by their resource's resourceType) are
// compared element by element under that key; other arrays compare their
// first elements. A difference whose path ends with one of allowed is
// accepted; an allowance ending in "*" accepts every path that contains what
// comes before the "*". Rows use allowances to name, explicitly, what the
// mock legitimately does differently.
func ShapeDiff(path string, want, got any, allowed []string) []string {
	ok := func(p string) bool {
		// Allowances name Bundle entries by type: "entry[Patient].name",
		// not "entry[Patient].resource.name".
		p = strings.ReplaceAll(p, "].resource.", "].")
		for _, a := range allowed {
			if pre, wild := strings.CutSuffix(a, "*"); wild && strings.Contains(p, pre) {
				return true
			}
			if strings.HasSuffix(p, a) {
				return true
			}
		}
		return false
	}
	var diffs []string
	add := func(p, msg string) {
		if !ok(p) {
			diffs = append(diffs, p+": "+msg)
		}
	}
	switch w := want.(type) {
	case map[string]any:
		g, isMap := got.(map[string]any)
		if !isMap {
			add(path, fmt.Sprintf("want an object, got %T", got))
			return diffs
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present {
				add(path+"."+k, "missing")
				continue
			}
			diffs = append(diffs, ShapeDiff(path+"."+k, wv, gv, allowed)...)
		}
		for k := range g {
			if _, present := w[k]; !present {
				add(path+"."+k, "unexpected")
			}
		}
	case []any:
		g, isArr := got.([]any)
		if !isArr {
			add(path, fmt.Sprintf("want an array, got %T", got))
			return diffs
		}
		wk, gk := keyed(w), keyed(g)
		if wk != nil && (gk != nil || len(g) == 0) {
			for k, wv := range wk {
				gv, present := gk[k]
				if !present {
					add(path+"["+k+"]", "missing")
					continue
				}
				diffs = append(diffs, ShapeDiff(path+"["+k+"]", wv, gv, allowed)...)
			}
			for k := range gk {
				if _, present := wk[k]; !present {
					add(path+"["+k+"]", "unexpected")
				}
			}
			return diffs
		}
		switch {
		case len(w) > 0 && len(g) > 0:
			diffs = append(diffs, ShapeDiff(path+"[0]", w[0], g[0], allowed)...)
		case len(w) > 0:
			add(path+"[0]", "missing (empty array)")
		case len(g) > 0:
			add(path+"[0]", "unexpected (example array is empty)")
		}
	default:
		if _, isObj := got.(map[string]any); isObj {
			add(path, "want a scalar, got an object")
		}
		if _, isArr := got.([]any); isArr {
			add(path, "want a scalar, got an array")
		}
	}
	return diffs
}

// keyed indexes an array of FHIR elements by url, name (when the element
// has more than a name), resourceType, or an entry's resource.resourceType
// (shortened to the last path segment), keeping the first of each; nil when
// the elements are not all keyed the same way.
func keyed(arr []any) map[string]any {
	if len(arr) == 0 {
		return nil
	}
	out := map[string]any{}
	kind := ""
	for _, e := range arr {
		o, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		k, thisKind := "", ""
		for _, f := range []string{"url", "resourceType", "name"} {
			if s, ok := o[f].(string); ok && (f != "name" || len(o) > 1) {
				k, thisKind = s[strings.LastIndex(s, "/")+1:], f
				break
			}
		}
		if res, ok := o["resource"].(map[string]any); ok && k == "" {
			if s, ok := res["resourceType"].(string); ok {
				k, thisKind = s, "entry"
			}
		}
		if k == "" || (kind != "" && thisKind != kind) {
			return nil
		}
		kind = thisKind
		if _, dup := out[k]; !dup {
			out[k] = o
		}
	}
	return out
}
