// Package cdshooks owns the CDS Hooks side of the mock GP clinical system:
// the host (client) that fires order-select / order-sign at a clinical
// decision support service under test — an iRefer-like imaging
// appropriateness service — and measures how long the clinician's screen is
// blocked waiting for it (issue 3: TPP iRefer freezing SystmOne practice
// computers during imaging orders).
//
// It owns:
//
//   - the CDS Hooks model: discovery (Service), cards, suggestions, actions,
//     links, system actions and feedback, with the PAMA rating helpers the
//     Argonaut "CDS Hooks for PAMA" IG uses;
//   - ValidateResponse, which never panics and separates bodies a real host
//     could crash on ("invalid-json", "wrong-types", "oversized") from spec
//     violations a tolerant host survives (Problem); system actions are
//     accepted both top-level and under the older `extension.systemActions`;
//   - JWT signing for the host's bearer tokens (ES384, P-384, hand-written
//     JWS) with a published JWKS, and VerifyToken for tests and Go services;
//   - Host: discovery, Invoke (signed, bounded by HardTimeout, bounded reads,
//     Call.Blocked / Freeze against the UI Budget) and Feedback, journalling
//     "cds.discovered", "cds.invoked", "cds.unsafe", "cds.problems" and
//     "cds.feedback" to a mocks/journal Journal;
//   - DraftImagingOrder, the hook context for one draft imaging
//     ServiceRequest.
//
// The GP Connect mock (mocks/gpconnect) embeds a Host; the harness drives it
// as a workload. testdata/npm holds an independent JSON-schema check with the
// npm package cds-validator (see its README for the schema-version drift it
// tolerates).
//
// Mocks import nothing from harness/.
package cdshooks
