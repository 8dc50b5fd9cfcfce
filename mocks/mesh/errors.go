package mesh

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// MESH error codes (spec "Error codes" table and the sandbox's ErrorCodeMap).
const (
	CodeDataMissing        = "02"
	CodeMalformedHeaders   = "06"
	CodeInvalidFrom        = "07"
	CodeMissingTo          = "08"
	CodeUnregisteredTo     = "12"
	CodeUndelivered        = "14"
	CodeWorkflowNotAllowed = "17"
	CodeNoSuchMessage      = "20"
	CodeInvalidChunks      = "InvalidHeaderChunks"
	CodeUnsupportedEncode  = "UnsupportedContentEncoding"
)

const (
	mediaV1   = "application/json"
	mediaV1x  = "application/vnd.mesh.v1+json"
	mediaV2   = "application/vnd.mesh.v2+json"
	vndPrefix = "application/vnd.mesh."
)

// version reads the Accept header: 2 for application/vnd.mesh.v2+json, 1 for
// application/json, vnd.mesh.v1+json or anything else, 0 for an unknown
// vnd.mesh version (answered 400).
func version(r *http.Request) int {
	accept := strings.ToLower(r.Header.Get("Accept"))
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		mt = strings.TrimSpace(mt)
		switch {
		case mt == mediaV2:
			return 2
		case mt == mediaV1x:
			return 1
		case strings.HasPrefix(mt, vndPrefix):
			return 0
		}
	}
	return 1
}

func contentType(v int) string {
	if v == 2 {
		return mediaV2
	}
	return mediaV1
}

func writeJSON(w http.ResponseWriter, status int, ctype string, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// meshError writes a MESH error body: v1 {"messageID","errorEvent",
// "errorCode","errorDescription"}, v2 {"message_id","internal_id",
// "detail":[{"event","code","msg"}]}.
func meshError(w http.ResponseWriter, v, status int, messageID, event, code, desc string) {
	if v == 2 {
		body := map[string]any{"detail": []map[string]string{{"event": event, "code": code, "msg": desc}}}
		if messageID != "" {
			body["message_id"] = messageID
			body["internal_id"] = messageID
		}
		writeJSON(w, status, mediaV2, body)
		return
	}
	body := map[string]string{"errorEvent": event, "errorCode": code, "errorDescription": desc}
	if messageID != "" {
		body["messageID"] = messageID
	}
	writeJSON(w, status, mediaV1, body)
}

// validationError writes FastAPI's HTTPValidationError, the spec's 400 body.
func validationError(w http.ResponseWriter, loc []any, msg string) {
	writeJSON(w, http.StatusBadRequest, mediaV1, map[string]any{
		"detail": []map[string]any{{"loc": loc, "msg": msg, "type": "value_error"}},
	})
}

// forbidden writes the sandbox's 403 body {"detail": reason}.
func forbidden(w http.ResponseWriter, reason string) {
	writeJSON(w, http.StatusForbidden, mediaV1, map[string]string{"detail": reason})
}

// notFound is the 404 for a message that does not exist (code 20).
func notFound(w http.ResponseWriter, v int, id string) {
	meshError(w, v, http.StatusNotFound, id, "RECEIVE", CodeNoSuchMessage, "Message does not exist")
}

// respond writes the MESH-shaped body of an in-band Status fault.
func respond(w http.ResponseWriter, r *http.Request, spec inband.Spec) {
	v := max(version(r), 1)
	code := spec.Code
	if code == "" {
		code = strconv.Itoa(spec.Status)
	}
	event := "TRANSFER"
	if op := classify(r); op == "send" || op == "sendChunk" {
		event = "SEND"
	}
	meshError(w, v, spec.Status, "", event, code, http.StatusText(spec.Status))
}
