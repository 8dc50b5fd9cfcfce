package mesh

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/inband"
)

// MaxRequestBytes is the largest body one request may carry (100 MB).
const MaxRequestBytes = 100 << 20

// MaxInboxResults is how many ids one v1 inbox listing returns, and the
// default v2 max_results.
const MaxInboxResults = 500

// Operation names for in-band faults (Spec.Operations).
const (
	OpHandshake     = "handshake"
	OpListInbox     = "listInbox"
	OpDownload      = "download"
	OpDownloadChunk = "downloadChunk"
	OpAcknowledge   = "acknowledge"
	OpSend          = "send"
	OpSendChunk     = "sendChunk"
	OpTracking      = "tracking"
)

// Operations lists every operation name.
var Operations = []string{OpHandshake, OpListInbox, OpDownload, OpDownloadChunk, OpAcknowledge, OpSend, OpSendChunk, OpTracking}

// segments splits a path under BasePath; nil when it is not under it.
func segments(p string) []string {
	rest, ok := strings.CutPrefix(p, BasePath+"/")
	if !ok || rest == "" {
		return nil
	}
	return strings.Split(rest, "/")
}

// pathMailbox is the faults' tenant: the mailbox id in the path.
func pathMailbox(r *http.Request) string {
	if s := segments(r.URL.Path); len(s) > 0 {
		return s[0]
	}
	return ""
}

// classify names the operation a request invokes.
func classify(r *http.Request) string {
	s := segments(r.URL.Path)
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case len(s) == 1 && (get || r.Method == http.MethodPost):
		return OpHandshake
	case len(s) == 2 && s[1] == "inbox" && get:
		return OpListInbox
	case len(s) == 3 && s[1] == "inbox" && get:
		return OpDownload
	case len(s) == 4 && s[1] == "inbox" && get:
		return OpDownloadChunk
	case len(s) == 5 && s[1] == "inbox" && s[3] == "status" && s[4] == "acknowledged" && r.Method == http.MethodPut:
		return OpAcknowledge
	case len(s) == 2 && s[1] == "outbox" && r.Method == http.MethodPost:
		return OpSend
	case len(s) == 4 && s[1] == "outbox" && r.Method == http.MethodPost:
		return OpSendChunk
	case len(s) >= 3 && s[1] == "outbox" && s[2] == "tracking" && get:
		return OpTracking
	}
	return ""
}

func (m *Mock) buildHandler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(w http.ResponseWriter, r *http.Request, v int, mbx string)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			v := version(r)
			if v == 0 {
				validationError(w, []any{"header", "accept"}, "unsupported vnd.mesh version in Accept: "+r.Header.Get("Accept"))
				return
			}
			mbx := r.PathValue("mailbox")
			if reason, ok := m.authenticate(r.Header.Get("Authorization"), mbx); !ok {
				forbidden(w, reason)
				return
			}
			m.Sweep()
			h(w, r, v, mbx)
		})
	}
	route("GET "+BasePath+"/{mailbox}", m.handshake)
	route("POST "+BasePath+"/{mailbox}", m.handshake)
	route("GET "+BasePath+"/{mailbox}/inbox", m.listInbox)
	route("GET "+BasePath+"/{mailbox}/inbox/{id}", m.download)
	route("GET "+BasePath+"/{mailbox}/inbox/{id}/{chunk}", m.download)
	route("PUT "+BasePath+"/{mailbox}/inbox/{id}/status/acknowledged", m.acknowledge)
	route("POST "+BasePath+"/{mailbox}/outbox", m.send)
	route("POST "+BasePath+"/{mailbox}/outbox/{id}/{chunk}", m.sendChunk)
	route("GET "+BasePath+"/{mailbox}/outbox/tracking", m.tracking)
	route("GET "+BasePath+"/{mailbox}/outbox/tracking/{localID}", m.tracking)
	observe := func(r *http.Request, op string, spec inband.Spec) {
		attrs := map[string]string{"operation": op, "kind": string(spec.Kind)}
		if spec.Status != 0 {
			attrs["status"] = strconv.Itoa(spec.Status)
		}
		m.journalRecord("request.faulted", map[string]string{"mailbox": pathMailbox(r)}, attrs)
	}
	return m.faults.Middleware(mux, classify, respond, observe)
}

func (m *Mock) handshake(w http.ResponseWriter, r *http.Request, v int, mbx string) {
	for _, h := range []string{"mex-ClientVersion", "mex-OSName", "mex-OSVersion"} {
		if r.Header.Get(h) == "" {
			validationError(w, []any{"header", strings.ToLower(h)}, "field required")
			return
		}
	}
	if v == 2 {
		writeJSON(w, http.StatusOK, mediaV2, map[string]string{"mailbox_id": mbx})
		return
	}
	writeJSON(w, http.StatusOK, mediaV1, map[string]string{"mailboxId": mbx})
}

// continueToken encodes the last id of a page as an opaque continue_from.
func continueToken(id string) string {
	return base64.URLEncoding.EncodeToString([]byte(`{"last":"` + id + `"}`))
}

func continueAfter(tok string) (string, bool) {
	b, err := base64.URLEncoding.DecodeString(tok)
	if err != nil {
		return tok, true // v1 style: a message id
	}
	var c struct {
		Last string `json:"last"`
	}
	if json.Unmarshal(b, &c) != nil || c.Last == "" {
		return "", false
	}
	return c.Last, true
}

func (m *Mock) listInbox(w http.ResponseWriter, r *http.Request, v int, mbx string) {
	q := r.URL.Query()
	limit := MaxInboxResults
	if s := q.Get("max_results"); s != "" && v == 2 {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10 || n > 5000 {
			validationError(w, []any{"query", "max_results"}, "max_results must be an integer in 10..5000")
			return
		}
		limit = n
	}
	after := ""
	if s := q.Get("continue_from"); s != "" {
		var ok bool
		if after, ok = continueAfter(s); !ok {
			validationError(w, []any{"query", "continue_from"}, "invalid continue_from")
			return
		}
	}
	m.mu.Lock()
	var ids []string
	for _, msg := range m.msgOrder {
		if msg.to == mbx && msg.inInbox() {
			ids = append(ids, msg.id)
		}
	}
	m.mu.Unlock()
	total := len(ids)
	if after != "" {
		if i := slices.Index(ids, after); i >= 0 {
			ids = ids[i+1:]
		}
	}
	more := len(ids) > limit
	ids = ids[:min(len(ids), limit)]
	if ids == nil {
		ids = []string{}
	}
	if v == 1 {
		writeJSON(w, http.StatusOK, mediaV1, map[string]any{"messages": ids})
		return
	}
	self := BasePath + "/" + mbx + "/inbox?max_results=" + strconv.Itoa(limit)
	links := map[string]string{"self": self}
	if more {
		links["next"] = self + "&continue_from=" + url.QueryEscape(continueToken(ids[len(ids)-1]))
	}
	writeJSON(w, http.StatusOK, mediaV2, map[string]any{"messages": ids, "links": links, "approx_inbox_count": total})
}

func (m *Mock) download(w http.ResponseWriter, r *http.Request, v int, mbx string) {
	id := r.PathValue("id")
	chunk := 1
	if s := r.PathValue("chunk"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			validationError(w, []any{"path", "chunk_number"}, "chunk_number must be a positive integer")
			return
		}
		chunk = n
	}
	m.mu.Lock()
	msg, ok := m.messages[id]
	if !ok || !msg.delivered || chunk > len(msg.chunks) {
		m.mu.Unlock()
		notFound(w, v, id)
		return
	}
	if msg.to != mbx {
		m.mu.Unlock()
		forbidden(w, "Mailbox is not the recipient of this message")
		return
	}
	status := msg.status
	if status == statusUndeliverable || (status == statusAcknowledged && m.goneAfterAck) {
		m.mu.Unlock()
		meshError(w, v, http.StatusGone, id, "RECEIVE", CodeUndelivered, "Message already accepted or expired")
		return
	}
	data := msg.chunks[chunk-1]
	h := w.Header()
	set := func(k, val string) {
		if val != "" {
			h.Set(k, val)
		}
	}
	set("Content-Type", cmpOr(msg.contentType, "application/octet-stream"))
	set("Mex-From", msg.from)
	set("Mex-To", cmpOr(msg.reportTo, msg.to))
	set("Mex-WorkflowID", msg.workflow)
	set("Mex-MessageID", msg.id)
	set("Mex-MessageType", msg.kind)
	set("Mex-LocalID", msg.localID)
	set("Mex-Subject", msg.subject)
	set("Mex-FileName", msg.fileName)
	set("Mex-PartnerID", msg.partnerID)
	set("Mex-Content-Checksum", msg.checksum)
	set("Mex-Content-Encrypted", msg.encrypted)
	set("Mex-Content-Compressed", cmpOr(msg.compressed, "N"))
	set("Mex-Version", "1.0")
	set("Mex-AddressType", "ALL")
	set("Mex-Chunk-Range", strconv.Itoa(chunk)+":"+strconv.Itoa(len(msg.chunks)))
	set("Mex-Total-Chunks", strconv.Itoa(len(msg.chunks)))
	set("Mex-StatusTimestamp", msg.statusAt.Format("20060102150405"))
	set("Mex-StatusEvent", "TRANSFER")
	if msg.kind == "REPORT" {
		set("Mex-StatusCode", CodeUndelivered)
		set("Mex-StatusSuccess", "ERROR")
		set("Mex-StatusDescription", "Message not collected by recipient after "+m.expiry.String())
		set("Mex-LinkedMsgID", msg.linked)
	} else {
		set("Mex-StatusCode", "00")
		set("Mex-StatusSuccess", "SUCCESS")
		set("Mex-StatusDescription", "Transferred to recipient mailbox")
	}
	encoding := msg.encoding
	m.mu.Unlock()

	if encoding == "gzip" {
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
		} else if plain, err := gunzip(data); err == nil {
			data = plain
		} else {
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	code := http.StatusOK
	if chunk < len(msg.chunks) {
		code = http.StatusPartialContent
	}
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
	if r.Method == http.MethodGet {
		m.journalRecord("message.downloaded", map[string]string{"message_id": id, "to": mbx},
			map[string]string{"chunk": strconv.Itoa(chunk), "message_type": msg.kind})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		enc, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return true
		}
	}
	return false
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(io.LimitReader(zr, 4*MaxRequestBytes))
}

func (m *Mock) acknowledge(w http.ResponseWriter, r *http.Request, v int, mbx string) {
	id := r.PathValue("id")
	m.mu.Lock()
	msg, ok := m.messages[id]
	if !ok || !msg.delivered || msg.to != mbx {
		m.mu.Unlock()
		notFound(w, v, id)
		return
	}
	first := msg.status == statusAccepted
	if first {
		msg.status, msg.ackedAt, msg.statusAt = statusAcknowledged, m.now().UTC(), m.now().UTC()
		m.journalRecord("message.acknowledged", map[string]string{
			"message_id": id, "local_id": msg.localID, "from": msg.from, "to": mbx, "workflow": msg.workflow,
		}, map[string]string{"message_type": msg.kind})
	}
	m.mu.Unlock()
	if v == 2 {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, mediaV1, map[string]string{"messageId": id})
}

// parseRange parses mex-Chunk-Range "n:N".
func parseRange(s string) (n, total int, ok bool) {
	a, b, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(a)
	total, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || n < 1 || total < 1 || n > total || total > 100000 {
		return 0, 0, false
	}
	return n, total, true
}

// readBody reads at most MaxRequestBytes; ok is false (413 written) when
// the body is larger.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeJSON(w, http.StatusRequestEntityTooLarge, mediaV1, map[string]string{"detail": "request body exceeds 100MB"})
		return nil, false
	}
	if err != nil {
		validationError(w, []any{"body"}, "could not read body: "+err.Error())
		return nil, false
	}
	return b, true
}

var headerLimits = []struct {
	name string
	max  int
}{
	{"mex-To", 100}, {"mex-WorkflowID", 300}, {"mex-Chunk-Range", 20}, {"mex-Subject", 500},
	{"mex-LocalID", 300}, {"mex-FileName", 300}, {"mex-Content-Checksum", 100},
}

func (m *Mock) send(w http.ResponseWriter, r *http.Request, v int, mbx string) {
	for _, l := range headerLimits {
		if len(r.Header.Get(l.name)) > l.max {
			validationError(w, []any{"header", strings.ToLower(l.name)}, "ensure this value has at most "+strconv.Itoa(l.max)+" characters")
			return
		}
	}
	if from := r.Header.Get("mex-From"); from != "" && !strings.EqualFold(from, mbx) {
		meshError(w, v, http.StatusExpectationFailed, "", "SEND", CodeInvalidFrom, "Invalid From Address, the mailbox does not match the authorization header")
		return
	}
	to := strings.ToUpper(strings.TrimSpace(r.Header.Get("mex-To")))
	if to == "" {
		meshError(w, v, http.StatusBadRequest, "", "SEND", CodeMissingTo, "Missing Mex-To header")
		return
	}
	workflow := r.Header.Get("mex-WorkflowID")
	if workflow == "" {
		meshError(w, v, http.StatusExpectationFailed, "", "SEND", CodeMalformedHeaders, "Malformed headers: mex-WorkflowID is required")
		return
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc != "" && enc != "gzip" {
		meshError(w, v, http.StatusUnprocessableEntity, "", "SEND", CodeUnsupportedEncode, "Unsupported Content-Encoding "+enc+" (only gzip)")
		return
	}
	total := 1
	if cr := r.Header.Get("mex-Chunk-Range"); cr != "" {
		n, t, ok := parseRange(cr)
		if !ok || n != 1 {
			meshError(w, v, http.StatusExpectationFailed, "", "SEND", CodeInvalidChunks, "Invalid mex-Chunk-Range "+cr+": the first chunk must be 1:N")
			return
		}
		total = t
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if len(body) == 0 {
		meshError(w, v, http.StatusExpectationFailed, "", "SEND", CodeDataMissing, "Data file is missing or inaccessible")
		return
	}
	m.mu.Lock()
	if _, ok := m.mailboxes[to]; !ok {
		m.mu.Unlock()
		meshError(w, v, http.StatusExpectationFailed, "", "SEND", CodeUnregisteredTo, "Unregistered to address")
		return
	}
	if !slices.Contains(m.workflows, workflow) {
		m.mu.Unlock()
		meshError(w, v, http.StatusExpectationFailed, "", "SEND", CodeWorkflowNotAllowed, "Workflow ID not registered for mailbox")
		return
	}
	msg := m.newMessageLocked(mbx, to, meta{
		workflow: workflow, localID: r.Header.Get("mex-LocalID"), subject: r.Header.Get("mex-Subject"),
		fileName: r.Header.Get("mex-FileName"), partnerID: r.Header.Get("mex-PartnerID"),
		checksum: r.Header.Get("mex-Content-Checksum"), contentType: r.Header.Get("Content-Type"),
		compressed: r.Header.Get("mex-Content-Compressed"), encrypted: r.Header.Get("mex-Content-Encrypted"),
		encoding: enc,
	}, total)
	msg.chunks[0] = body
	if total == 1 {
		m.completeLocked(msg)
	}
	id := msg.id
	m.mu.Unlock()
	writeSent(w, v, id)
}

func writeSent(w http.ResponseWriter, v int, id string) {
	if v == 2 {
		writeJSON(w, http.StatusAccepted, mediaV2, map[string]string{"message_id": id})
		return
	}
	writeJSON(w, http.StatusAccepted, mediaV1, map[string]string{"messageID": id})
}

func (m *Mock) sendChunk(w http.ResponseWriter, r *http.Request, v int, mbx string) {
	id := r.PathValue("id")
	n, err := strconv.Atoi(r.PathValue("chunk"))
	if err != nil || n < 1 {
		validationError(w, []any{"path", "chunk_number"}, "chunk_number must be a positive integer")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	msg, ok := m.messages[id]
	switch {
	case !ok:
		notFound(w, v, id)
		return
	case msg.from != mbx:
		forbidden(w, "Mailbox is not the sender of this message")
		return
	case msg.status != statusUploading:
		meshError(w, v, http.StatusLocked, id, "SEND", CodeInvalidChunks, "Message has been finalised; no more chunks can be uploaded")
		return
	case n > len(msg.chunks):
		meshError(w, v, http.StatusNotAcceptable, id, "SEND", CodeInvalidChunks, "Chunk number exceeds total chunks")
		return
	}
	cr := r.Header.Get("mex-Chunk-Range")
	cn, ct, rok := parseRange(cr)
	if !rok || cn != n || ct != len(msg.chunks) {
		meshError(w, v, http.StatusExpectationFailed, id, "SEND", CodeInvalidChunks,
			"Invalid mex-Chunk-Range "+strconv.Quote(cr)+" for chunk "+strconv.Itoa(n)+" of "+strconv.Itoa(len(msg.chunks)))
		return
	}
	if enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc != msg.encoding {
		meshError(w, v, http.StatusExpectationFailed, id, "SEND", CodeInvalidChunks, "Content-Encoding differs from the first chunk's")
		return
	}
	if len(body) == 0 {
		meshError(w, v, http.StatusExpectationFailed, id, "SEND", CodeDataMissing, "Data file is missing or inaccessible")
		return
	}
	msg.chunks[n-1] = body
	if msg.complete() {
		m.completeLocked(msg)
	}
	writeSent(w, v, id)
}

// tracking answers ?messageID=, ?localID= and the deprecated /{localID}
// form; several messages with one local id answer 300.
func (m *Mock) tracking(w http.ResponseWriter, r *http.Request, v int, mbx string) {
	q := r.URL.Query()
	msgID, localID := q.Get("messageID"), cmpOr(r.PathValue("localID"), q.Get("localID"))
	if r.PathValue("localID") != "" {
		v = 1 // the deprecated endpoint only has the v1 shape
	}
	if msgID == "" && localID == "" {
		validationError(w, []any{"query", "messageID"}, "messageID or localID is required")
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var found []*message
	for _, msg := range m.msgOrder {
		if msg.from != mbx || msg.kind != "DATA" {
			continue
		}
		if (msgID != "" && msg.id == msgID) || (msgID == "" && msg.localID == localID) {
			found = append(found, msg)
		}
	}
	switch len(found) {
	case 0:
		notFound(w, v, msgID)
	case 1:
		writeJSON(w, http.StatusOK, contentType(v), m.trackingBody(found[0], v))
	default:
		ids := make([]string, len(found))
		for i, f := range found {
			ids[i] = f.id
		}
		writeJSON(w, http.StatusMultipleChoices, contentType(v), map[string]any{"messages": ids})
	}
}

func (m *Mock) trackingBody(msg *message, v int) map[string]any {
	expiry := msg.uploaded.Add(m.expiry)
	success := msg.status != statusUndeliverable
	code, desc := "00", "Success"
	if !success {
		code, desc = CodeUndelivered, "Message not collected by recipient"
	}
	if v == 2 {
		b := map[string]any{
			"message_id": msg.id, "workflow_id": msg.workflow, "recipient": msg.to,
			"expiry_time": expiry.Format(time.RFC3339), "upload_timestamp": msg.uploaded.Format(time.RFC3339),
			"status_success": success, "status": msg.status, "status_event": "TRANSFER",
			"status_timestamp": msg.statusAt.Format(time.RFC3339), "status_description": desc, "status_code": code,
		}
		if msg.localID != "" {
			b["local_id"] = msg.localID
		}
		if msg.fileName != "" {
			b["filename"] = msg.fileName
		}
		return b
	}
	const ts = "20060102150405"
	b := map[string]any{
		"addressType": "ALL", "dtsId": msg.id, "messageId": msg.id, "messageType": msg.kind,
		"fileSize": msg.size(), "chunkCount": len(msg.chunks), "recipient": msg.to, "sender": msg.from,
		"expiryTime": expiry.Format(ts), "uploadTimestamp": msg.uploaded.Format(ts),
		"status": strings.ToUpper(msg.status[:1]) + msg.status[1:], "statusCode": code, "statusDescription": desc,
		"statusEvent": "TRANSFER", "statusSuccess": map[bool]string{true: "SUCCESS", false: "ERROR"}[success],
		"statusTimestamp": msg.statusAt.Format(ts), "version": "1.0", "workflowId": msg.workflow,
	}
	for k, val := range map[string]string{"localId": msg.localID, "fileName": msg.fileName, "subject": msg.subject,
		"contentEncoding": msg.encoding, "checksum": msg.checksum, "partnerId": msg.partnerID} {
		if val != "" {
			b[k] = val
		}
	}
	if !msg.ackedAt.IsZero() {
		b["downloadTimestamp"] = msg.ackedAt.Format(ts)
	}
	return b
}
