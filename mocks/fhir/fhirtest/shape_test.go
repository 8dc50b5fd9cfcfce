package fhirtest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShapeDiff(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		allowed   []string
		diffs     []string
	}{
		{name: "same keys, other values", want: `{"resourceType":"Patient","id":"a","active":true}`, got: `{"resourceType":"Patient","id":"b","active":false}`},
		{name: "missing and unexpected keys", want: `{"a":1,"b":2}`, got: `{"a":1,"c":3}`, diffs: []string{"$.b: missing", "$.c: unexpected"}},
		{name: "object where a scalar was", want: `{"a":1}`, got: `{"a":{"x":1}}`, diffs: []string{"$.a: want a scalar, got an object"}},
		{name: "arrays compare their first element", want: `{"a":[{"x":1}]}`, got: `{"a":[{"x":2},{"y":3}]}`},
		{name: "extensions are keyed by url", want: `{"extension":[{"url":"http://x/A","valueString":"a"},{"url":"http://x/B","valueCode":"b"}]}`,
			got: `{"extension":[{"url":"http://x/B","valueCode":"c"}]}`, diffs: []string{"$.extension[A]: missing"}},
		{name: "an allowance names a path", want: `{"a":1,"b":2}`, got: `{"a":1}`, allowed: []string{".b"}},
		{name: "a wildcard allowance covers a subtree", want: `{"a":{"b":{"c":1}}}`, got: `{"a":{"b":{}}}`, allowed: []string{".a.b*"}},
		{name: "empty example array", want: `{"a":[]}`, got: `{"a":[1]}`, diffs: []string{"$.a[0]: unexpected (example array is empty)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want, got any
			require.NoError(t, json.Unmarshal([]byte(tt.want), &want))
			require.NoError(t, json.Unmarshal([]byte(tt.got), &got))
			require.ElementsMatch(t, tt.diffs, ShapeDiff("$", want, got, tt.allowed))
		})
	}
}
