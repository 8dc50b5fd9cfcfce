package hl7

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sampleORU is a synthetic equivalent of the normative edition's ORU^R01
// example: one patient (a 999 test-range NHS number and a local MRN), one
// order, numeric results with flags, a coded result, a text result with
// escapes, and a note. No real data.
const sampleORU = "MSH|^~\\&|LIMS|YLAB1|GPSYS|Y12345|20250101093000||ORU^R01^ORU_R01|CTRL0001|P|2.4|||AL|NE\r" +
	"PID|1||9990000018^^^NHS^NH~12345^^^RXX^MR||TESTPATIENT^Alex||19800101|F\r" +
	"PV1|1|O\r" +
	"ORC|RE|PLACER123|FILLER456\r" +
	"OBR|1|PLACER123|FILLER456|FBC^Full blood count^LOCAL|||20250101080000|||||||||G1234567^SYNTHETIC^Sam||||||20250101092900|||F\r" +
	"OBX|1|NM|HB^Haemoglobin^LOCAL||112|g/L|115-165|L|||F\r" +
	"OBX|2|NM|WBC^White cell count^LOCAL||12.1|10*9/L|3.5-11.0|H|||F\r" +
	"OBX|3|CE|ABO^Blood group^LOCAL||A+^A positive^LOCAL||||||F\r" +
	"OBX|4|TX|COM^Comment^LOCAL||Sample haemolysed\\.br\\repeat \\T\\ review \\S\\ 1\\F\\2||||||F\r" +
	"NTE|1||Synthetic report for testing\r"

func TestParseSample(t *testing.T) {
	m, err := Parse([]byte(sampleORU))
	require.NoError(t, err)
	tests := []struct{ name, path, want string }{
		{"control id", "MSH-10", "CTRL0001"},
		{"field separator", "MSH-1", "|"},
		{"encoding characters", "MSH-2", "^~\\&"},
		{"message type whole", "MSH-9", "ORU^R01^ORU_R01"},
		{"message type component", "MSH-9.2", "R01"},
		{"version", "MSH-12", "2.4"},
		{"nhs number", "PID-3[1].1", "9990000018"},
		{"nhs authority", "PID-3[1].4", "NHS"},
		{"mrn", "PID-3[2].1", "12345"},
		{"mrn type", "PID-3[2].5", "MR"},
		{"whole repeating field", "PID-3", "9990000018^^^NHS^NH~12345^^^RXX^MR"},
		{"first repetition", "PID-3[1]", "9990000018^^^NHS^NH"},
		{"family", "PID-5.1", "TESTPATIENT"},
		{"service", "OBR-4.1", "FBC"},
		{"result status", "OBR-25", "F"},
		{"first obx value", "OBX-5", "112"},
		{"second obx flag", "OBX[2]-8", "H"},
		{"coded value text", "OBX[3]-5.2", "A positive"},
		{"escapes decoded", "OBX[4]-5", "Sample haemolysed\nrepeat & review ^ 1|2"},
		{"absent occurrence", "OBX[9]-5", ""},
		{"absent field", "PV1-40", ""},
		{"absent component", "PID-5.7", ""},
		{"absent subcomponent", "PID-5.1.2", ""},
		{"bad path", "PID", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, m.Get(tt.path)) })
	}
	require.Len(t, m.All("OBX"), 4)
	require.Equal(t, "ORU^R01", m.Type())
	require.Equal(t, sampleORU, m.String(), "an unchanged message encodes to the same bytes")
}

func TestEscapes(t *testing.T) {
	d := DefaultDelimiters
	tests := []struct{ name, encoded, value string }{
		{"field", `a\F\b`, "a|b"},
		{"component", `a\S\b`, "a^b"},
		{"subcomponent", `a\T\b`, "a&b"},
		{"repetition", `a\R\b`, "a~b"},
		{"escape", `a\E\b`, `a\b`},
		{"line break", `a\.br\b`, "a\nb"},
		{"hex", `\X0D0A\`, "\r\n"},
		{"hex lower", `\X7e\`, "~"},
		{"highlight kept", `\H\bold\N\`, `\H\bold\N\`},
		{"unterminated kept", `a\F`, `a\F`},
		{"odd hex kept", `\X0\`, `\X0\`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Unescape(tt.encoded, d)
			require.Equal(t, tt.value, got)
			require.Equal(t, got, Unescape(Escape(got, d), d), "escape then unescape is the identity")
		})
	}
}

func TestCustomDelimitersHonoured(t *testing.T) {
	raw := "MSH#:*!%#LAB#FAC#GP#PR#20250101##ORU:R01#C9#P#2.5.1\rPID#1##111:::NHS:NH*222:::X:MR##A!F!B\r"
	m, err := Parse([]byte(raw))
	require.NoError(t, err)
	require.Equal(t, Delimiters{'#', ':', '*', '!', '%'}, m.Delims)
	require.Equal(t, "C9", m.Get("MSH-10"))
	require.Equal(t, "222", m.Get("PID-3[2].1"))
	require.Equal(t, "A#B", m.Get("PID-5"))
	require.Equal(t, raw, m.String())
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"empty", "", "empty message"},
		{"no msh", "PID|1\r", "must start with an MSH"},
		{"short encoding", "MSH|^~|x\r", "must be 4 characters"},
		{"unclosed encoding", "MSH|^~\\&", "not closed"},
		{"duplicate encoding char", "MSH|^^\\&|\r", "used twice"},
		{"alnum encoding char", "MSH|^~\\A|\r", "not a printable non-alphanumeric"},
		{"bad segment name", "MSH|^~\\&|\rpid|1\r", "segment 2"},
		{"name not followed by separator", "MSH|^~\\&|\rPIDX|1\r", "followed by the field separator"},
		{"control byte", "MSH|^~\\&|\rPID|1|\x01\r", "segment 2 (PID) field 2 (PID-2): control byte 0x01"},
		{"second msh", "MSH|^~\\&|a\rMSH|^~\\&|b\r", "two messages run together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.raw))
			require.Error(t, err)
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSetGrows(t *testing.T) {
	m := NewMessage()
	m.Add("MSH", Value("LAB"))
	m.Add("PID", Value("1"))
	require.NoError(t, m.Set("MSH-10", "X1"))
	require.NoError(t, m.Set("PID-3[2].4", "NHS"))
	require.NoError(t, m.Set("PID-5.1.2", "a^b"))
	require.Error(t, m.Set("OBX-5", "v"))
	require.Error(t, m.Set("MSH-2", "v"))
	require.Equal(t, "X1", m.ControlID())
	require.Equal(t, "NHS", m.Get("PID-3[2].4"))
	require.Equal(t, "a^b", m.Get("PID-5.1.2"))
	back, err := Parse(m.Bytes())
	require.NoError(t, err)
	require.Equal(t, m.String(), back.String())
}

func TestBuildORUAndACK(t *testing.T) {
	at := time.Date(2025, 1, 1, 9, 30, 0, 0, time.UTC)
	for _, v := range []string{V24, V251} {
		t.Run(v, func(t *testing.T) {
			o := ORU{
				Header:     Header{SendingApp: "LIMS", SendingFacility: "YLAB1", ReceivingApp: "GP", ReceivingFacility: "Y12345", Time: at, ControlID: "C1", Version: v, AcceptAck: "AL", AppAck: "NE"},
				PatientIDs: []CX{{"9990000018", "NHS", "NH"}}, Family: "TESTPATIENT", Given: "Alex", BirthDate: "19800101", Sex: "F",
				Placer: "P1", Filler: "F1", Service: CE{"HBA1C", "HbA1c", "LOCAL"}, Observed: at, Reported: at, Status: "F",
				Observations: []OBX{{ValueType: "NM", Code: CE{"HBA1C", "HbA1c", "LOCAL"}, Value: "48", Units: "mmol/mol", Range: "20-41", Flag: "H", Status: "F"}},
				Notes:        []string{"line one\nline two"},
			}
			m := BuildORU(o)
			back, err := Parse(m.Bytes())
			require.NoError(t, err)
			require.Equal(t, "ORU^R01", back.Type())
			require.Equal(t, v, back.Version())
			require.Equal(t, "9990000018", back.Get("PID-3[1].1"))
			require.Equal(t, "NH", back.Get("PID-3[1].5"))
			require.Equal(t, "F", back.Get("OBR-25"))
			require.Equal(t, "48", back.Get("OBX-5"))
			require.Equal(t, "H", back.Get("OBX-8"))
			require.Equal(t, "F", back.Get("OBX-11"))
			require.Equal(t, "line one\nline two", back.Get("NTE-3"))

			for _, code := range []string{AA, AE, AR} {
				a := ACK{Code: code, ControlID: "A1", Time: at}
				if code != AA {
					a.Err = &AckError{Code: ErrUnknownKey, Text: "unknown patient", Segment: "PID", Seq: 1, Field: 3}
				}
				ack, err := Parse(BuildACK(back, "", a).Bytes())
				require.NoError(t, err)
				require.Equal(t, code, ack.Get("MSA-1"))
				require.Equal(t, "C1", ack.Get("MSA-2"))
				require.Equal(t, "ACK", ack.Get("MSH-9.1"))
				require.Equal(t, "LIMS", ack.Get("MSH-5"))
				require.Equal(t, v, ack.Version())
				if code == AA {
					require.Nil(t, ack.Segment("ERR"))
					continue
				}
				require.NotNil(t, ack.Segment("ERR"))
				if v == V24 {
					require.Equal(t, ErrUnknownKey, ack.Get("ERR-1.4.1"))
				} else {
					require.Equal(t, ErrUnknownKey, ack.Get("ERR-3.1"))
					require.Equal(t, "E", ack.Get("ERR-4"))
				}
			}
		})
	}
}

func TestScrapeControlID(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"normal", "MSH|^~\\&|a|b|c|d|t||ORU^R01|CID9|P|2.4\rPID|\x01", "CID9"},
		{"short", "MSH|^~\\&|a", ""},
		{"not msh", "PID|1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, ScrapeControlID([]byte(tt.raw))) })
	}
}

// oneByteReader returns one byte per Read.
type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// splitReader returns the stream in two reads, split at n.
type splitReader struct {
	chunks [][]byte
}

func (s *splitReader) Read(p []byte) (int, error) {
	for len(s.chunks) > 0 && len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.chunks[0])
	s.chunks[0] = s.chunks[0][n:]
	return n, nil
}

func TestMLLPSplitAtEveryOffset(t *testing.T) {
	msgs := [][]byte{[]byte(sampleORU), []byte("MSH|^~\\&|x\r"), []byte(strings.Repeat("A", 300))}
	var stream []byte
	for _, m := range msgs {
		stream = append(stream, Frame(m)...)
	}
	read := func(t *testing.T, r io.Reader) {
		fr := NewReader(r, 0)
		for i, want := range msgs {
			got, err := fr.ReadFrame()
			require.NoError(t, err, "frame %d", i)
			require.Equal(t, want, got)
		}
		_, err := fr.ReadFrame()
		require.ErrorIs(t, err, io.EOF)
	}
	for i := 0; i <= len(stream); i++ {
		read(t, &splitReader{chunks: [][]byte{bytes.Clone(stream[:i]), bytes.Clone(stream[i:])}})
	}
	read(t, oneByteReader{bytes.NewReader(stream)})
}

func TestMLLPProblems(t *testing.T) {
	f := func(s string) string { return string(Frame([]byte(s))) }
	tests := []struct {
		name   string
		stream string
		max    int
		want   []string // frame payload, or "!" + error substring
	}{
		{"newlines between frames ignored", f("a") + "\r\n" + f("b"), 0, []string{"a", "b"}},
		{"junk between frames", f("a") + "xyz" + f("b"), 0, []string{"a", "!3 bytes of junk between frames", "b"}},
		{"junk at end", f("a") + "zz", 0, []string{"a", "!2 bytes of junk outside any frame"}},
		{"oversize skipped", f("abcdef") + f("ab"), 4, []string{"!exceeds the maximum of 4", "ab"}},
		{"start inside frame", "\x0babc" + f("d"), 0, []string{"!start block inside the frame", "d"}},
		{"end block without cr", "\x0babc\x1cX" + f("d"), 0, []string{"!followed by 'X'", "!1 bytes of junk", "d"}},
		{"truncated", "\x0babc", 0, []string{"!cut off after 3 bytes"}},
		{"truncated after end block", "\x0babc\x1c", 0, []string{"!before its CR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.stream), tt.max)
			for _, w := range tt.want {
				got, err := r.ReadFrame()
				if msg, ok := strings.CutPrefix(w, "!"); ok {
					require.Error(t, err)
					require.Contains(t, err.Error(), msg)
					continue
				}
				require.NoError(t, err)
				require.Equal(t, w, string(got))
			}
		})
	}
	var fe *FrameError
	_, err := NewReader(strings.NewReader(f("abcdef")), 2).ReadFrame()
	require.ErrorAs(t, err, &fe)
	require.ErrorContains(t, err, ErrFrameTooLarge.Error())
	_, err = NewReader(strings.NewReader("\x0babc"), 0).ReadFrame()
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	require.NoError(t, w.WriteFrame([]byte("MSH|x")))
	require.Equal(t, "\x0bMSH|x\x1c\r", b.String())
	require.ErrorContains(t, w.WriteFrame([]byte("a\x1cb")), "block byte 0x1C at offset 1")
}
