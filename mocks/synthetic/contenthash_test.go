package synthetic

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResultContentHash(t *testing.T) {
	base := ResultContentHash("9434765919", "UE", []ObsValue{{"NA", "150"}, {"K", "5.2"}})
	b, err := hex.DecodeString(base)
	require.NoError(t, err)
	require.Len(t, b, 32, "hex sha256")

	rows := []struct {
		name      string
		nhs, code string
		obs       []ObsValue
		same      bool
	}{
		{"identical", "9434765919", "UE", []ObsValue{{"NA", "150"}, {"K", "5.2"}}, true},
		{"order of obs irrelevant", "9434765919", "UE", []ObsValue{{"K", "5.2"}, {"NA", "150"}}, true},
		{"trailing zero", "9434765919", "UE", []ObsValue{{"NA", "150"}, {"K", "5.20"}}, true},
		{"json float text", "9434765919", "UE", []ObsValue{{"NA", "150.0"}, {"K", "5.2"}}, true},
		{"spaces trimmed", " 9434765919", "UE ", []ObsValue{{" NA", " 150 "}, {"K", "5.2\t"}}, true},
		{"exponent", "9434765919", "UE", []ObsValue{{"NA", "1.5e2"}, {"K", "5.2"}}, true},
		{"different value", "9434765919", "UE", []ObsValue{{"NA", "150"}, {"K", "5.3"}}, false},
		{"different code", "9434765919", "UE", []ObsValue{{"NA", "150"}, {"CREA", "5.2"}}, false},
		{"values swapped between codes", "9434765919", "UE", []ObsValue{{"NA", "5.2"}, {"K", "150"}}, false},
		{"different patient", "9434765927", "UE", []ObsValue{{"NA", "150"}, {"K", "5.2"}}, false},
		{"different test", "9434765919", "LFT", []ObsValue{{"NA", "150"}, {"K", "5.2"}}, false},
		{"an observation missing", "9434765919", "UE", []ObsValue{{"NA", "150"}}, false},
		{"an observation extra", "9434765919", "UE", []ObsValue{{"NA", "150"}, {"K", "5.2"}, {"UREA", ""}}, false},
		{"text not numeric", "9434765919", "UE", []ObsValue{{"NA", "150"}, {"K", "5.2 "}}, true},
		{"text case matters", "9434765919", "UE", []ObsValue{{"NA", "150"}, {"K", "five"}}, false},
		{"field boundary", "943476591", "9UE", []ObsValue{{"NA", "150"}, {"K", "5.2"}}, false},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			got := ResultContentHash(row.nhs, row.code, row.obs)
			if row.same {
				require.Equal(t, base, got)
			} else {
				require.NotEqual(t, base, got)
			}
		})
	}

	// Text values are compared as they are, apart from surrounding spaces.
	require.Equal(t,
		ResultContentHash("9434765919", "FBC", []ObsValue{{"MORPH", " Abnormal film "}}),
		ResultContentHash("9434765919", "FBC", []ObsValue{{"MORPH", "Abnormal film"}}))
	require.NotEqual(t,
		ResultContentHash("9434765919", "FBC", []ObsValue{{"MORPH", "abnormal film"}}),
		ResultContentHash("9434765919", "FBC", []ObsValue{{"MORPH", "Abnormal film"}}))
	// Repeated codes: order still irrelevant.
	require.Equal(t,
		ResultContentHash("9434765919", "X", []ObsValue{{"A", "1"}, {"A", "2"}}),
		ResultContentHash("9434765919", "X", []ObsValue{{"A", "2.0"}, {"A", "1"}}))
	require.Equal(t, ResultContentHash("9434765919", "X", nil), ResultContentHash("9434765919", "X", []ObsValue{}))
}

func TestNormaliseResultValue(t *testing.T) {
	for in, want := range map[string]string{
		"5.20": "5.2", "150.0": "150", " 7 ": "7", "0.270": "0.27", "1e3": "1000", "-0.5": "-0.5",
		"<5": "<5", "": "", "Abnormal film": "Abnormal film", "  text  ": "text",
	} {
		require.Equal(t, want, NormaliseResultValue(in), "%q", in)
	}
}
