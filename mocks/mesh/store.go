package mesh

import (
	"fmt"
	"strconv"
	"time"
)

// Message statuses, as MESH tracking reports them (v2 spelling).
const (
	statusUploading     = "uploading"
	statusAccepted      = "accepted"
	statusAcknowledged  = "acknowledged"
	statusUndeliverable = "undeliverable"
)

// meta is what the sender says about a message in mex-* headers.
type meta struct {
	workflow, localID, subject, fileName, partnerID string
	checksum, contentType, compressed, encrypted    string
	encoding                                        string // Content-Encoding of the stored chunks: "" or "gzip"
}

// message is one MESH message (DATA or REPORT) and its state.
type message struct {
	id, from, to string
	kind         string // DATA or REPORT
	meta
	chunks      [][]byte // nil entries are chunks not yet uploaded
	status      string
	uploaded    time.Time
	deliverAt   time.Time
	delivered   bool
	deliveredAt time.Time
	ackedAt     time.Time
	statusAt    time.Time
	linked      string // REPORT: the undelivered message's id
	reportTo    string // REPORT: the undelivered message's intended recipient
}

func (msg *message) size() int {
	n := 0
	for _, c := range msg.chunks {
		n += len(c)
	}
	return n
}

func (msg *message) complete() bool {
	for _, c := range msg.chunks {
		if c == nil {
			return false
		}
	}
	return true
}

// inInbox reports whether msg is listed in its recipient's inbox.
func (msg *message) inInbox() bool { return msg.delivered && msg.status == statusAccepted }

// newMessageLocked mints an id (yyyyMMddHHmmssffffff_XXXXXX, as MESH does)
// and stores an uploading message; callers hold m.mu.
func (m *Mock) newMessageLocked(from, to string, md meta, chunks int) *message {
	now := m.now().UTC()
	var id string
	for {
		id = fmt.Sprintf("%s%06d_%06X", now.Format("20060102150405"), now.Nanosecond()/1000, m.rng.Uint32()&0xffffff)
		if _, taken := m.messages[id]; !taken {
			break
		}
	}
	msg := &message{id: id, from: from, to: to, kind: "DATA", meta: md, chunks: make([][]byte, chunks),
		status: statusUploading, uploaded: now, statusAt: now}
	m.messages[id] = msg
	m.msgOrder = append(m.msgOrder, msg)
	return msg
}

// completeLocked marks a fully uploaded message accepted, due in the
// recipient's inbox after the delivery delay; callers hold m.mu.
func (m *Mock) completeLocked(msg *message) {
	now := m.now().UTC()
	msg.status, msg.statusAt = statusAccepted, now
	msg.deliverAt = now.Add(m.delay)
	compressed := msg.encoding == "gzip" || msg.compressed == "Y"
	keys := map[string]string{
		"message_id": msg.id, "local_id": msg.localID, "from": msg.from, "to": msg.to, "workflow": msg.workflow,
	}
	for k, v := range bundleKeys(msg.body()) { // a FHIR Bundle: bundle_id, nhs_number, content_hash
		keys[k] = v
	}
	m.journalRecord("message.sent", keys, map[string]string{
		"bytes": strconv.Itoa(msg.size()), "chunks": strconv.Itoa(len(msg.chunks)), "compressed": strconv.FormatBool(compressed),
	})
	m.sweepLocked()
}

// sweepLocked delivers due messages and expires uncollected ones; callers
// hold m.mu.
func (m *Mock) sweepLocked() {
	now := m.now().UTC()
	for i := 0; i < len(m.msgOrder); i++ { // reports appended during the loop are swept too
		msg := m.msgOrder[i]
		if msg.status == statusAccepted && !msg.delivered && !now.Before(msg.deliverAt) {
			msg.delivered, msg.deliveredAt = true, now
			if msg.kind == "DATA" {
				m.journalRecord("message.delivered", map[string]string{
					"message_id": msg.id, "local_id": msg.localID, "from": msg.from, "to": msg.to, "workflow": msg.workflow,
				}, map[string]string{"due": msg.deliverAt.Format(time.RFC3339Nano)})
			}
		}
		if msg.kind == "DATA" && msg.inInbox() && now.Sub(msg.deliveredAt) >= m.expiry {
			msg.status, msg.statusAt = statusUndeliverable, now
			m.reportLocked(msg)
		}
	}
}

// reportLocked puts an undelivered REPORT (code 14) for msg in its
// sender's inbox at once; callers hold m.mu.
func (m *Mock) reportLocked(msg *message) {
	r := m.newMessageLocked("", msg.from, meta{workflow: msg.workflow, localID: msg.localID, subject: msg.subject, fileName: msg.fileName}, 1)
	r.kind, r.linked, r.chunks[0] = "REPORT", msg.id, []byte{}
	r.to = msg.from
	r.reportTo = msg.to
	now := m.now().UTC()
	r.status, r.statusAt, r.deliverAt, r.delivered, r.deliveredAt = statusAccepted, now, now, true, now
	m.journalRecord("report.undelivered", map[string]string{
		"message_id": r.id, "linked_message_id": msg.id, "local_id": msg.localID, "to": msg.from, "workflow": msg.workflow,
	}, map[string]string{"status_code": "14", "recipient": msg.to})
}
