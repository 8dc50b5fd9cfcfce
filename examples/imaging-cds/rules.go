package main

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// PAMA rating codes (Argonaut CDS Hooks for PAMA; the sandbox service uses
// no-guidelines-apply, INTERFACES.md §5.2).
const (
	ratingAppropriate    = "appropriate"
	ratingNotAppropriate = "not-appropriate"
	ratingNoGuidelines   = "no-guidelines-apply"
)

// The rule table.
//
// ILLUSTRATIVE ONLY. The clinical content below is a toy loosely shaped like
// red-flag guidance for imaging in primary care. It exists so that shakedown
// has a CDS service with realistic data dependencies to break; it is not
// clinical guidance and must not be used as such.
//
// A rule matches a draft ServiceRequest by procedure code or by words in its
// code text. It then looks for its indication in the order's reasonCode or
// in the patient's active problems, and for red flags in the active
// problems and in recent investigations:
//
//   - procedure not in the table              → no-guidelines-apply
//   - indication not found                    → no-guidelines-apply
//   - any red flag                            → appropriate
//   - no red flag, rule has no duration rule  → not-appropriate
//   - no red flag, indication onset < window  → not-appropriate
//   - no red flag, indication onset ≥ window  → appropriate (persistent)
//   - no red flag, onset unknown              → no-guidelines-apply
//
// | rule          | procedure                          | indication    | window  | red flags (problems / investigations)                                  |
// |---------------|------------------------------------|---------------|---------|------------------------------------------------------------------------|
// | lumbar-spine  | MRI or CT of the lumbar spine      | low back pain | 6 weeks | cauda equina, malignancy, weight loss, fever, fracture, trauma, immunosuppression; CRP > 10 mg/L in 90 days |
// | ct-head       | CT of the head                     | headache      | —       | thunderclap, papilloedema, head injury, focal neurology, seizure, malignancy, immunosuppression |
type rule struct {
	id        string
	procedure string // label for cards
	// procedureCodes are CPT and SNOMED CT codes (illustrative selection).
	procedureCodes []string
	// procedureWords: the order matches when its text contains every word
	// of any one set (whole words, case-insensitive).
	procedureWords    [][]string
	indicationCodes   []string
	indicationPhrases []string
	redFlagCodes      []string
	redFlagPhrases    []string
	redFlagTests      []testFlag
	// acuteWindow is how long an indication must have lasted before imaging
	// is rated appropriate without red flags; zero means never.
	acuteWindow time.Duration
}

// testFlag is a red flag from a recent investigation result.
type testFlag struct {
	label   string
	phrases []string // any of these in the test's name
	above   float64  // value strictly above this
	within  time.Duration
}

var rules = []rule{
	{
		id:                "lumbar-spine",
		procedure:         "Lumbar spine imaging",
		procedureCodes:    []string{"72131", "72132", "72133", "72148", "72149", "72158"},
		procedureWords:    [][]string{{"mri", "lumbar"}, {"magnetic", "resonance", "lumbar"}, {"ct", "lumbar"}, {"computed", "tomography", "lumbar"}},
		indicationCodes:   []string{"279039007"}, // Low back pain
		indicationPhrases: []string{"low back pain", "lumbago", "lower back pain"},
		redFlagCodes:      []string{"192970008", "363346000"}, // Cauda equina syndrome; Malignant neoplastic disease
		redFlagPhrases: []string{"cauda equina", "malignan", "cancer", "metasta", "weight loss", "fever",
			"fracture", "trauma", "immunosuppress", "saddle anaesthesia", "urinary retention"},
		redFlagTests: []testFlag{{label: "raised CRP", phrases: []string{"c reactive protein", "crp"}, above: 10, within: 90 * 24 * time.Hour}},
		acuteWindow:  6 * 7 * 24 * time.Hour,
	},
	{
		id:                "ct-head",
		procedure:         "CT head",
		procedureCodes:    []string{"70450", "303653007"},
		procedureWords:    [][]string{{"ct", "head"}, {"ct", "brain"}, {"computed", "tomography", "head"}},
		indicationCodes:   []string{"25064002"}, // Headache
		indicationPhrases: []string{"headache"},
		redFlagPhrases: []string{"thunderclap", "papilloedema", "papilledema", "head injury", "focal neuro",
			"seizure", "malignan", "cancer", "immunosuppress"},
	},
}

// order is a draft ServiceRequest as the rules see it.
type order struct {
	id         string
	codes      []string
	text       string
	reasons    []string // reasonCode codes
	reasonText []string
}

// rating is the outcome for one order.
type rating struct {
	code      string
	rule      string // rule id, empty when none matched
	procedure string
	reason    string
	// indication is the record problem that carried the indication, if any.
	indication *problem
	redFlags   []string
}

// rate applies the rule table to one order and the patient's record.
func rate(o order, rec record, now time.Time) rating {
	r, ok := findRule(o)
	if !ok {
		return rating{code: ratingNoGuidelines, procedure: o.text,
			reason: "No rule in this illustrative table covers this procedure."}
	}
	out := rating{rule: r.id, procedure: r.procedure}

	inReason := slices.ContainsFunc(o.reasons, func(c string) bool { return slices.Contains(r.indicationCodes, c) }) ||
		slices.ContainsFunc(o.reasonText, func(t string) bool { return hasPhrase(t, r.indicationPhrases) })
	for i := range rec.problems {
		p := &rec.problems[i]
		if !p.active || !matches(p.codes, p.display, r.indicationCodes, r.indicationPhrases) {
			continue
		}
		// The earliest onset is how long the indication has lasted.
		if out.indication == nil || (!p.onset.IsZero() && (out.indication.onset.IsZero() || p.onset.Before(out.indication.onset))) {
			out.indication = p
		}
	}
	if !inReason && out.indication == nil {
		out.code = ratingNoGuidelines
		out.reason = "The indication for this order is not one the rule covers."
		return out
	}

	for _, p := range rec.problems {
		if p.active && matches(p.codes, p.display, r.redFlagCodes, r.redFlagPhrases) {
			out.redFlags = append(out.redFlags, p.display)
		}
	}
	for _, tf := range r.redFlagTests {
		for _, ob := range rec.observations {
			if !ob.hasValue || ob.value <= tf.above || !hasPhrase(ob.display, tf.phrases) {
				continue
			}
			if ob.when.IsZero() || now.Sub(ob.when) > tf.within {
				continue
			}
			out.redFlags = append(out.redFlags, tf.label)
			break
		}
	}

	switch {
	case len(out.redFlags) > 0:
		out.code = ratingAppropriate
		out.reason = "Red flags in the record: " + strings.Join(out.redFlags, "; ") + "."
	case r.acuteWindow == 0:
		out.code = ratingNotAppropriate
		out.reason = "No red flags in the record."
	case out.indication == nil || out.indication.onset.IsZero():
		out.code = ratingNoGuidelines
		out.reason = "No red flags, but how long the symptoms have lasted is not in the record."
	case now.Sub(out.indication.onset) < r.acuteWindow:
		out.code = ratingNotAppropriate
		out.reason = "Symptoms under " + weeks(r.acuteWindow) + " with no red flags in the record."
	default:
		out.code = ratingAppropriate
		out.reason = "Symptoms for " + weeks(r.acuteWindow) + " or more."
	}
	return out
}

func weeks(d time.Duration) string {
	return strconv.Itoa(int(d/(7*24*time.Hour))) + " weeks"
}

func findRule(o order) (rule, bool) {
	words := " " + normalise(o.text) + " "
	for _, r := range rules {
		if slices.ContainsFunc(o.codes, func(c string) bool { return slices.Contains(r.procedureCodes, c) }) {
			return r, true
		}
		for _, set := range r.procedureWords {
			if !slices.ContainsFunc(set, func(w string) bool { return !strings.Contains(words, " "+w+" ") }) {
				return r, true
			}
		}
	}
	return rule{}, false
}

func matches(codes []string, text string, wantCodes, phrases []string) bool {
	return slices.ContainsFunc(codes, func(c string) bool { return slices.Contains(wantCodes, c) }) || hasPhrase(text, phrases)
}

func hasPhrase(text string, phrases []string) bool {
	t := " " + normalise(text) + " "
	for _, p := range phrases {
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}

// normalise lowercases and turns every non-alphanumeric run into a space.
func normalise(s string) string {
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}
