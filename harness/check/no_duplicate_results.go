package check

import (
	"fmt"
	"slices"
	"strings"
)

// NoDuplicateResults checks that no pathology result reached the practice
// twice.
//
// A sender that resends after a lost or late ACK, or an integration that
// re-sends after a lost MESH answer, can file one result twice in the
// patient's record. The check groups the MESH "message.sent" effects by
// identity — the FHIR Bundle identifier, else the MESH local id (the
// MSH-10) — and fails for any identity sent more than once. It also groups
// them by content hash (NHS number, test code and result values), so a
// duplicate under a re-minted id is caught too: content that reached MESH
// more often than the lab sent distinct results with that content is a
// duplicate.
type NoDuplicateResults struct{}

// Name is the check's scenario name.
func (NoDuplicateResults) Name() string { return NameNoDuplicateResults }

// dupGroup is one identity or content that reached MESH more than once.
type dupGroup struct {
	by   string // "identifier" or "content"
	key  string
	nhs  string
	msgs []meshMessage
	sent int // distinct results the lab sent with this content (content groups)
}

// Evaluate judges the run.
func (c NoDuplicateResults) Evaluate(in *Input) Verdict {
	v := Verdict{Check: c.Name()}
	msgs := meshMessages(in)
	if len(msgs) == 0 {
		v.Status = Inconclusive
		v.Message = "No message was sent through MESH, so there is nothing to judge for duplicates."
		return v
	}

	// How many distinct results (by MSH-10) the lab sent with each content.
	labSent := map[string]map[string]bool{}
	for _, op := range in.Operations {
		h := op.Key(keyContentHash)
		if !isResult(op) || h == "" {
			continue
		}
		if labSent[h] == nil {
			labSent[h] = map[string]bool{}
		}
		labSent[h][resultID(op)] = true
	}

	var (
		byID, byHash       = map[string][]meshMessage{}, map[string][]meshMessage{}
		idOrder, hashOrder []string
	)
	for _, m := range msgs {
		if id := cmpOr(m.bundleID, m.localID); id != "" {
			if _, ok := byID[id]; !ok {
				idOrder = append(idOrder, id)
			}
			byID[id] = append(byID[id], m)
		}
		if m.hash != "" {
			if _, ok := byHash[m.hash]; !ok {
				hashOrder = append(hashOrder, m.hash)
			}
			byHash[m.hash] = append(byHash[m.hash], m)
		}
	}
	var groups []dupGroup
	dupIDs := map[string]bool{} // local ids and hashes already reported
	for _, id := range idOrder {
		if ms := byID[id]; len(ms) > 1 {
			groups = append(groups, dupGroup{by: "identifier", key: id, nhs: firstNHS(ms), msgs: ms})
			for _, m := range ms {
				dupIDs[m.localID], dupIDs[m.hash] = true, true
			}
		}
	}
	for _, h := range hashOrder {
		ms := byHash[h]
		sent := max(len(labSent[h]), 1)
		if len(ms) <= sent || dupIDs[h] && allIdentified(ms, dupIDs) {
			continue
		}
		groups = append(groups, dupGroup{by: "content", key: h, nhs: firstNHS(ms), msgs: ms, sent: sent})
	}

	if len(groups) == 0 {
		v.Status = Pass
		v.Message = fmt.Sprintf("Each of the %d %s sent through MESH reached the practice once, by identifier and by clinical content.",
			len(msgs), plural(len(msgs), "message", "messages"))
		return v
	}

	var nhs []string
	extra := 0
	evidenceKeys := map[string]bool{}
	for i, g := range groups {
		if g.nhs != "" && !slices.Contains(nhs, g.nhs) {
			nhs = append(nhs, g.nhs)
		}
		over := len(g.msgs) - 1
		if g.by == "content" {
			over = len(g.msgs) - g.sent
		}
		extra += over
		for _, m := range g.msgs {
			evidenceKeys[m.localID], evidenceKeys[m.hash] = true, true
		}
		if i < MaxEvidence {
			v.Details = append(v.Details, describeDupGroup(g))
		}
	}
	if len(groups) > MaxEvidence {
		v.Details = append(v.Details, fmt.Sprintf("… and %d more duplicated results.", len(groups)-MaxEvidence))
	}
	delete(evidenceKeys, "")
	for _, op := range in.Operations {
		if isResult(op) && (evidenceKeys[op.Key(keyMSH10)] || evidenceKeys[op.Key(keyContentHash)]) {
			v.Evidence = append(v.Evidence, op)
		}
	}
	v.Evidence = capped(v.Evidence)
	v.Status = Fail
	v.Message = fmt.Sprintf("%d pathology %s reached the practice more than once through MESH (%d extra %s), so the same result could be filed twice in the patient's record. NHS %s: %s.",
		len(groups), plural(len(groups), "result", "results"), extra, plural(extra, "copy", "copies"),
		plural(len(nhs), "number", "numbers"), listed(nhs, 10))
	return v
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstNHS(ms []meshMessage) string {
	for _, m := range ms {
		if m.nhs != "" {
			return m.nhs
		}
	}
	return ""
}

// allIdentified: every message is one already reported as a duplicate by
// identifier (so the content group adds nothing new).
func allIdentified(ms []meshMessage, reported map[string]bool) bool {
	for _, m := range ms {
		if m.localID == "" || !reported[m.localID] {
			return false
		}
	}
	return true
}

func describeDupGroup(g dupGroup) string {
	parts := make([]string, 0, len(g.msgs))
	for _, m := range g.msgs {
		id := cmpOr(m.messageID, "(no MESH message id)")
		if m.localID != "" {
			id += " (local id " + m.localID + ")"
		}
		parts = append(parts, fmt.Sprintf("%s at %s", id, human(m.at)))
	}
	who := "NHS number " + cmpOr(g.nhs, "(not recorded)")
	if g.by == "identifier" {
		return fmt.Sprintf("%s: result %s reached MESH %d times: %s.", who, g.key, len(g.msgs), strings.Join(parts, ", "))
	}
	return fmt.Sprintf("%s: the same clinical content (hash %s) reached MESH %d times for %d %s the lab sent: %s.",
		who, shortHash(g.key), len(g.msgs), g.sent, plural(g.sent, "result", "results"), strings.Join(parts, ", "))
}
