package pathology

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shakedown-harness/shakedown/mocks/hl7"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

const validNHS = "9990000018"

func oru(msh, pid string, rest ...string) string {
	segs := []string{msh, pid, "PV1|1|O", "ORC|RE|PL1|FI1"}
	if len(rest) == 0 {
		rest = []string{"OBR|1|PL1|FI1|HBA1C^HbA1c^LOCAL|||20250101080000|||||||||||||||20250101090000|||F", "OBX|1|NM|HBA1C^HbA1c^LOCAL||48|mmol/mol|20-41|H|||F"}
	}
	return strings.Join(append(segs, rest...), "\r") + "\r"
}

const goodMSH = "MSH|^~\\&|LIMS|YL1|GP|Y12345|20250101093000||ORU^R01^ORU_R01|C1|P|2.4|||AL|NE"
const goodPID = "PID|1||" + validNHS + "^^^NHS^NH~123^^^RXX^MR||TESTPATIENT^Alex||19800101|F"

func TestListenerAcknowledges(t *testing.T) {
	require.True(t, synthetic.ValidNHSNumber(validNHS))
	tests := []struct {
		name       string
		msg        string
		known      []string
		byteByByte bool
		code       string
		msa2       string
		errText    string
	}{
		{name: "valid 2.4", msg: oru(goodMSH, goodPID), code: hl7.AA, msa2: "C1"},
		{name: "valid 2.5.1 split byte by byte", msg: oru(strings.Replace(goodMSH, "|2.4|", "|2.5.1|", 1), goodPID), byteByByte: true, code: hl7.AA, msa2: "C1"},
		{name: "known patient", msg: oru(goodMSH, goodPID), known: []string{validNHS}, code: hl7.AA, msa2: "C1"},
		{name: "unknown patient", msg: oru(goodMSH, goodPID), known: []string{"9990000026"}, code: hl7.AE, msa2: "C1", errText: "unknown patient"},
		{name: "wrong message type", msg: oru(strings.Replace(goodMSH, "ORU^R01^ORU_R01", "ADT^A01^ADT_A01", 1), goodPID), code: hl7.AR, msa2: "C1", errText: "unsupported message type"},
		{name: "wrong trigger", msg: oru(strings.Replace(goodMSH, "ORU^R01", "ORU^R30", 1), goodPID), code: hl7.AR, msa2: "C1", errText: "trigger event"},
		{name: "unsupported version", msg: oru(strings.Replace(goodMSH, "|2.4|", "|2.3|", 1), goodPID), code: hl7.AR, msa2: "C1", errText: "unsupported version"},
		{name: "bad processing id", msg: oru(strings.Replace(goodMSH, "|C1|P|", "|C1|Q|", 1), goodPID), code: hl7.AR, msa2: "C1", errText: "processing id"},
		{name: "malformed", msg: goodMSH + "\rPID|1|\x01\r", code: hl7.AR, msa2: "C1", errText: "control byte"},
		{name: "no PID", msg: goodMSH + "\rOBR|1|||T|||||||||||||||||||||F\rOBX|1|NM|T||1\r", code: hl7.AE, msa2: "C1", errText: "no PID"},
		{name: "no NHS number", msg: oru(goodMSH, "PID|1||123^^^RXX^MR"), code: hl7.AE, msa2: "C1", errText: "no NHS number"},
		{name: "bad check digit", msg: oru(goodMSH, strings.Replace(goodPID, validNHS, "9990000017", 1)), code: hl7.AE, msa2: "C1", errText: "check digit"},
		{name: "no OBX", msg: oru(goodMSH, goodPID, "OBR|1|PL1|FI1|HBA1C|||||||||||||||||||||F"), code: hl7.AE, msa2: "C1", errText: "no OBX"},
		{name: "bad result status", msg: oru(goodMSH, goodPID, "OBR|1|PL1|FI1|HBA1C|||||||||||||||||||||Z", "OBX|1|NM|T||1"), code: hl7.AE, msa2: "C1", errText: "OBR-25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []Option{WithSeed(1), WithClock(fixedClock)}
			if tt.known != nil {
				opts = append(opts, WithKnownPatients(tt.known...))
			}
			l := NewListener(opts...)
			startListener(t, l)
			ack := exchange(t, l.Addr(), []byte(tt.msg), tt.byteByByte)
			require.Equal(t, tt.code, ack.Get("MSA-1"))
			require.Equal(t, tt.msa2, ack.Get("MSA-2"))
			require.Equal(t, "ACK", ack.Get("MSH-9.1"))
			es := l.Journal().Entries()
			require.Len(t, es, 1)
			if tt.code == hl7.AA {
				require.Nil(t, ack.Segment("ERR"))
				e := es[0]
				require.Equal(t, "result.accepted", e.Kind)
				require.Equal(t, map[string]string{keyMSH10: "C1", keyNHSNumber: validNHS, keyFiller: "FI1", keyTestCode: "HBA1C", keyResultStatus: "F"}, e.Keys)
				require.Len(t, e.Attrs["content_hash"], 64)
				return
			}
			require.NotNil(t, ack.Segment("ERR"))
			require.Contains(t, ack.String(), tt.errText)
			require.Equal(t, "result.rejected", es[0].Kind)
			require.Equal(t, tt.code, es[0].Attrs["code"])
			require.Contains(t, es[0].Attrs["error"], tt.errText)
		})
	}
}

func TestListenerCoalescedFramesAndDuplicates(t *testing.T) {
	l := NewListener(WithSeed(2), WithClock(fixedClock))
	startListener(t, l)
	m1 := oru(goodMSH, goodPID)
	// The same clinical content re-minted under a new MSH-10.
	m2 := strings.Replace(m1, "|C1|", "|C2|", 1)
	var stream []byte
	for _, m := range []string{m1, m1, m2} {
		stream = append(stream, hl7.Frame([]byte(m))...)
	}
	c := dial(t, l.Addr())
	_, err := c.Write(stream) // three frames in one write
	require.NoError(t, err)
	r := hl7.NewReader(c, 0)
	for _, want := range []string{"C1", "C1", "C2"} {
		f, err := r.ReadFrame()
		require.NoError(t, err)
		ack, err := hl7.Parse(f)
		require.NoError(t, err)
		require.Equal(t, want, ack.Get("MSA-2"))
	}
	acc := ofKind(l.Journal().Entries(), "result.accepted")
	require.Len(t, acc, 3)
	require.Equal(t, acc[0].Attrs["content_hash"], acc[2].Attrs["content_hash"], "a re-minted MSH-10 has the same content hash")
	require.Equal(t, []string{"0", "1", "0"}, []string{acc[0].Attrs["duplicate_msh10"], acc[1].Attrs["duplicate_msh10"], acc[2].Attrs["duplicate_msh10"]})
	require.Equal(t, []string{"0", "1", "2"}, []string{acc[0].Attrs["duplicate_content"], acc[1].Attrs["duplicate_content"], acc[2].Attrs["duplicate_content"]})
}
