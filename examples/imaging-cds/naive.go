package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
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
		// The headline is the record's own problem text when a problem
		// drove the rating: whatever type and length GP Connect sent.
		var summary any = rt.procedure + ": " + ratingWords(rt.code)
		if rt.indication != nil {
			summary = rt.indication.displayRaw
		}
		cards = append(cards, map[string]any{
			"uuid":      newUUID(),
			"summary":   summary,
			"detail":    "PAMA rating: " + rt.code + ". " + rt.reason,
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
