package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "plain words", in: "bin/gw --mode naive", want: []string{"bin/gw", "--mode", "naive"}},
		{name: "extra whitespace", in: "  a \t b\n c  ", want: []string{"a", "b", "c"}},
		{name: "single quotes keep everything", in: `sh -c 'echo "hi" $X'`, want: []string{"sh", "-c", `echo "hi" $X`}},
		{name: "double quotes keep spaces and unescape", in: `a "b c \"d\" \\ \x"`, want: []string{"a", `b c "d" \ \x`}},
		{name: "backslash escapes a space", in: `my\ prog arg`, want: []string{"my prog", "arg"}},
		{name: "empty quotes make an empty argument", in: `a ""`, want: []string{"a", ""}},
		{name: "adjacent quoting joins", in: `--name='a b'"c"`, want: []string{"--name=a bc"}},
		{name: "unterminated quote", in: `a 'b`, wantErr: "unterminated ' quote"},
		{name: "lone trailing backslash", in: `a \`, wantErr: "lone backslash"},
		{name: "empty", in: "   ", wantErr: "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := splitCommand(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{"a b", `sh -c 'x y'`, `"a\"b"`, `\ `, `'`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := splitCommand(s)
		if err == nil {
			require.NotEmpty(t, args)
		}
	})
}
