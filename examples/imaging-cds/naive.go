package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// naiveHook is how iRefer-style incidents happen. The clinician's screen
// waits on it for as long as GP Connect takes: there is no budget, the HTTP
// client has no timeout, the full record (every include) is fetched on every
// hook with no cache, the whole body is read whatever its size, and the
// record is decoded into map[string]any whose values are forwarded to the
// host as they came. Any upstream failure is a 500.
func (s *service) naiveHook(ctx context.Context, w http.ResponseWriter, q recordQuery, orders []draftOrder, log *slog.Logger) {
	s.fetches.Add(1)
	resp, err := s.gpc.do(ctx, q)
	if err != nil {
		log.Error("GP Connect failed", "err", err)
		writeError(w, http.StatusInternalServerError, "GP Connect: "+err.Error())
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Error("reading the record failed", "err", err)
		writeError(w, http.StatusInternalServerError, "reading the record: "+err.Error())
		return
	}
	var bundle map[string]any
	if err := json.Unmarshal(body, &bundle); err != nil {
		log.Error("record is not JSON", "err", err)
		writeError(w, http.StatusInternalServerError, "record is not JSON: "+err.Error())
		return
	}
	rec := naiveRecord(bundle)
	now := s.now()
	cards := []any{}
	actions := []any{}
	for _, o := range orders {
		rt := rate(o.order, rec, now)
		// The headline is the record's own problem text — the one that
		// drove the rating, else the most recent — whatever type and length
		// GP Connect sent; the detail lists every problem on the record as
		// recorded. Nothing is checked or clamped: that is the bug.
		var summary any = rt.procedure + ": " + ratingWords(rt.code)
		switch {
		case rt.indication != nil:
			summary = rt.indication.displayRaw
		case latestProblem(rec) != nil:
			summary = latestProblem(rec).displayRaw
		}
		cards = append(cards, map[string]any{
			"uuid":      newUUID(),
			"summary":   summary,
			"detail":    "PAMA rating: " + rt.code + ". " + rt.reason + " Problems on the GP record: " + allProblems(rec),
			"indicator": "info",
			"source":    map[string]any{"label": sourceLabel},
		})
		actions = append(actions, map[string]any{
			"type":        "update",
			"description": "PAMA rating " + rt.code,
			"resource":    ratedResource(o, rt.code),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"cards": cards, "systemActions": actions})
}

// latestProblem is the problem with the most recent onset (nil if none).
func latestProblem(rec record) *problem {
	var latest *problem
	for i := range rec.problems {
		p := &rec.problems[i]
		if latest == nil || p.onset.After(latest.onset) {
			latest = p
		}
	}
	return latest
}

// allProblems joins every problem's text as recorded, however long.
func allProblems(rec record) string {
	var b strings.Builder
	for i, p := range rec.problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.display)
	}
	return b.String()
}
