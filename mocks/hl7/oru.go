package hl7

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Supported versions for ORU^R01 and ACK.
const (
	V24  = "2.4"
	V251 = "2.5.1"
)

// TimeFormat is the HL7 DTM layout used here (to the second).
const TimeFormat = "20060102150405"

// Header is what goes into MSH.
type Header struct {
	SendingApp, SendingFacility     string
	ReceivingApp, ReceivingFacility string
	Time                            time.Time
	ControlID                       string
	ProcessingID                    string // P, T or D; "" means P
	Version                         string // V24 or V251; "" means V24
	AcceptAck, AppAck               string // MSH-15, MSH-16 (AL, NE, ER, SU)
}

// CX is an identifier with its assigning authority and type, as in PID-3
// ("9990000018^^^NHS^NH").
type CX struct{ ID, Authority, Type string }

// CE is a coded element: code^text^coding system.
type CE struct{ Code, Text, System string }

// OBX is one observation.
type OBX struct {
	ValueType string // NM, ST, TX, CE, SN
	Code      CE
	Value     string
	Units     string
	Range     string
	Flag      string // OBX-8: H, L, HH, LL, A, N or ""
	Status    string // OBX-11: F, P, C, X
}

// ORU is an ORU^R01 unsolicited observation result: one patient, one order
// (ORC/OBR) and its observations.
type ORU struct {
	Header
	PatientIDs         []CX
	Family, Given      string
	BirthDate          string // YYYYMMDD
	Sex                string // F, M, U, O
	Placer, Filler     string // order numbers (ORC-2/3, OBR-2/3)
	Service            CE     // OBR-4
	Observed, Reported time.Time
	Requester          string // OBR-16, as id^family^given
	Status             string // OBR-25: F, P, C, X
	Observations       []OBX
	Notes              []string // NTE after the OBXs
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(TimeFormat)
}

func (h Header) msh(m *Message, msgType Field) {
	pid := h.ProcessingID
	if pid == "" {
		pid = "P"
	}
	v := h.Version
	if v == "" {
		v = V24
	}
	m.Add("MSH",
		Value(h.SendingApp), Value(h.SendingFacility), Value(h.ReceivingApp), Value(h.ReceivingFacility),
		Value(ts(h.Time)), Value(""), msgType, Value(h.ControlID), Value(pid), Value(v),
		Value(""), Value(""), Value(h.AcceptAck), Value(h.AppAck))
}

func (c CE) field() Field { return Comps(c.Code, c.Text, c.System) }

// BuildORU builds the message, in the segment order ORU^R01 requires: MSH,
// PID, PV1, ORC, OBR, OBX…, NTE….
func BuildORU(o ORU) *Message {
	m := NewMessage()
	typ := Comps("ORU", "R01", "ORU_R01")
	o.Header.msh(m, typ)
	var ids []Field
	for _, id := range o.PatientIDs {
		ids = append(ids, Comps(id.ID, "", "", id.Authority, id.Type))
	}
	m.Add("PID", Value("1"), Value(""), Repeat(ids...), Value(""), Comps(o.Family, o.Given), Value(""), Value(o.BirthDate), Value(o.Sex))
	m.Add("PV1", Value("1"), Value("O"))
	m.Add("ORC", Value("RE"), Value(o.Placer), Value(o.Filler))
	obr := make([]Field, 25)
	for i := range obr {
		obr[i] = Value("")
	}
	obr[0] = Value("1")
	obr[1] = Value(o.Placer)
	obr[2] = Value(o.Filler)
	obr[3] = o.Service.field()
	obr[6] = Value(ts(o.Observed))
	obr[15] = Comps(strings.SplitN(o.Requester, "^", 3)...)
	obr[21] = Value(ts(o.Reported))
	obr[24] = Value(o.Status)
	m.Add("OBR", obr...)
	for i, x := range o.Observations {
		val := Value(x.Value)
		if x.ValueType == "CE" {
			val = Comps(strings.SplitN(x.Value, "^", 3)...)
		}
		m.Add("OBX", Value(strconv.Itoa(i+1)), Value(x.ValueType), x.Code.field(), Value(""), val,
			Value(x.Units), Value(x.Range), Value(x.Flag), Value(""), Value(""), Value(x.Status))
	}
	for i, n := range o.Notes {
		m.Add("NTE", Value(strconv.Itoa(i+1)), Value(""), Value(n))
	}
	return m
}

// Acknowledgment codes (HL7 table 0008, original mode).
const (
	AA = "AA" // accepted
	AE = "AE" // application error: fix the message, do not resend it unchanged
	AR = "AR" // rejected: bad MSH-9/11/12 or a receiver problem; resend later
)

// Error codes (HL7 table 0357) used in ERR.
const (
	ErrSegmentSequence    = "100"
	ErrRequiredMissing    = "101"
	ErrDataType           = "102"
	ErrTableValue         = "103"
	ErrUnsupportedType    = "200"
	ErrUnsupportedEvent   = "201"
	ErrUnsupportedProcID  = "202"
	ErrUnsupportedVersion = "203"
	ErrUnknownKey         = "204"
	ErrDuplicateKey       = "205"
	ErrInternal           = "207"
)

// AckError is what ERR says for an AE or AR.
type AckError struct {
	Code    string // table 0357
	Text    string
	Segment string // where, when known: segment name, occurrence and field
	Seq     int
	Field   int
}

func (e AckError) Error() string {
	loc := ""
	if e.Segment != "" {
		loc = fmt.Sprintf(" at %s[%d]-%d", e.Segment, max(e.Seq, 1), e.Field)
	}
	return fmt.Sprintf("%s %s%s", e.Code, e.Text, loc)
}

// ACK describes an acknowledgement to build.
type ACK struct {
	Code      string // AA, AE, AR
	ControlID string // the ACK's own MSH-10
	Time      time.Time
	Err       *AckError // ERR segment, for AE and AR
}

// BuildACK acknowledges received: MSH addressed back to its sender, MSA-1
// a.Code, MSA-2 received's MSH-10, and an ERR segment when a.Err is set
// (ERR-1 in 2.4; ERR-2, ERR-3, ERR-4 and ERR-8 from 2.5). received may be
// nil (a message too broken to parse): MSA-2 is then controlID, which the
// caller scraped as best it could.
func BuildACK(received *Message, controlID string, a ACK) *Message {
	h := Header{Time: a.Time, ControlID: a.ControlID, Version: V24}
	trigger := "R01"
	if received != nil {
		h.SendingApp, h.SendingFacility = received.Get("MSH-5.1"), received.Get("MSH-6.1")
		h.ReceivingApp, h.ReceivingFacility = received.Get("MSH-3.1"), received.Get("MSH-4.1")
		h.ProcessingID = received.Get("MSH-11.1")
		if v := received.Version(); v == V24 || v == V251 {
			h.Version = v
		}
		if t := received.Get("MSH-9.2"); t != "" {
			trigger = t
		}
		controlID = received.ControlID()
	}
	m := NewMessage()
	h.msh(m, Comps("ACK", trigger, "ACK"))
	msa := []Field{Value(a.Code), Value(controlID)}
	if a.Err != nil && h.Version == V24 {
		msa = append(msa, Value(a.Err.Text))
	}
	m.Add("MSA", msa...)
	if a.Err != nil {
		e := a.Err
		seq, field := "", ""
		if e.Segment != "" {
			seq, field = strconv.Itoa(max(e.Seq, 1)), strconv.Itoa(e.Field)
		}
		if h.Version == V24 {
			// ERR-1 (ELD): segment^sequence^field^code&text&HL70357
			m.Add("ERR", Field{Repetition{{e.Segment}, {seq}, {field}, {e.Code, e.Text, "HL70357"}}})
		} else {
			sev := "E"
			m.Add("ERR", Value(""), Comps(e.Segment, seq, field), Comps(e.Code, e.Text, "HL70357"), Value(sev),
				Value(""), Value(""), Value(""), Value(e.Text))
		}
	}
	return m
}

// ScrapeControlID reads MSH-10 from data that may not parse: the tenth
// field of the first line, split on the byte after "MSH". It returns "" when
// data does not start with MSH.
func ScrapeControlID(data []byte) string {
	s := strings.TrimLeft(string(data), "\r\n")
	if len(s) < 4 || !strings.HasPrefix(s, "MSH") {
		return ""
	}
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, string(s[3]))
	// parts[0]="MSH", parts[1]=MSH-2, parts[k]=MSH-(k+1)
	if len(parts) <= 9 {
		return ""
	}
	v := parts[9]
	if len(parts[1]) > 0 {
		v, _, _ = strings.Cut(v, parts[1][:1])
	}
	return v
}
