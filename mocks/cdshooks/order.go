package cdshooks

import "strings"

// DraftImagingOrder builds the context of an order-select or order-sign hook
// for one draft imaging ServiceRequest, in the shape of the Argonaut PAMA
// examples (pama-scenario-01-outbound-request.json): userId, patientId,
// draftOrders (a Bundle with the ServiceRequest: status draft, intent plan,
// code, subject, reasonCode) and, for order-select, selections naming it.
//
// userID may be a bare id ("123", made "Practitioner/123") or a reference
// ("PractitionerRole/abc"). patientID is the bare Patient id. The procedure's
// display, when given, is also the code's text. The values are plain
// map[string]any / []any, as encoding/json would decode them.
func DraftImagingOrder(hook, patientID, userID, orderID string, procedure, reason Coding) map[string]any {
	if !strings.Contains(userID, "/") {
		userID = "Practitioner/" + userID
	}
	code := map[string]any{"coding": []any{codingMap(procedure)}}
	if procedure.Display != "" {
		code["text"] = procedure.Display
	}
	sr := map[string]any{
		"resourceType": "ServiceRequest",
		"id":           orderID,
		"status":       "draft",
		"intent":       "plan",
		"code":         code,
		"subject":      map[string]any{"reference": "Patient/" + patientID},
		"reasonCode":   []any{map[string]any{"coding": []any{codingMap(reason)}}},
	}
	ctx := map[string]any{
		"userId":    userID,
		"patientId": patientID,
		"draftOrders": map[string]any{
			"resourceType": "Bundle",
			"type":         "collection",
			"entry":        []any{map[string]any{"resource": sr}},
		},
	}
	if hook == HookOrderSelect {
		ctx["selections"] = []any{"ServiceRequest/" + orderID}
	}
	return ctx
}

func codingMap(c Coding) map[string]any {
	m := map[string]any{}
	if c.System != "" {
		m["system"] = c.System
	}
	if c.Code != "" {
		m["code"] = c.Code
	}
	if c.Display != "" {
		m["display"] = c.Display
	}
	return m
}
