package mesh

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/inband"
	"github.com/stretchr/testify/require"
)

func TestSendDeliverListDownloadAck(t *testing.T) {
	e := start(t, WithDeliveryDelay(40*time.Second))
	id := e.send("X26ABC1", "X26ABC2", "PATH_BS_R4", "lab-001", []byte("ORU result"), map[string]string{"mex-Subject": "FBC"})
	require.Empty(t, e.inbox("X26ABC2"), "not delivered before the delay")

	e.clock.Advance(40 * time.Second)
	require.Equal(t, []string{id}, e.inbox("X26ABC2"))

	r := e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox/"+id, nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "ORU result", string(r.body))
	for k, v := range map[string]string{
		"Mex-From": "X26ABC1", "Mex-To": "X26ABC2", "Mex-WorkflowID": "PATH_BS_R4", "Mex-MessageID": id,
		"Mex-MessageType": "DATA", "Mex-LocalID": "lab-001", "Mex-Subject": "FBC", "Mex-Chunk-Range": "1:1",
		"Mex-StatusCode": "00", "Mex-StatusSuccess": "SUCCESS", "Mex-Version": "1.0", "Mex-AddressType": "ALL",
	} {
		require.Equal(t, v, r.header.Get(k), k)
	}

	for range 2 { // acknowledge is idempotent
		r = e.do(http.MethodPut, "X26ABC2", "/X26ABC2/inbox/"+id+"/status/acknowledged", nil, nil)
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, id, r.json(t)["messageId"])
	}
	require.Empty(t, e.inbox("X26ABC2"))
	r = e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox/"+id, nil, nil)
	require.Equal(t, http.StatusGone, r.status)

	k := kinds(e.m)
	require.Equal(t, 1, k["message.sent"])
	require.Equal(t, 1, k["message.delivered"])
	require.Equal(t, 1, k["message.downloaded"])
	require.Equal(t, 1, k["message.acknowledged"])
	for _, en := range e.m.Journal().Entries() {
		if en.Kind == "message.sent" {
			require.Equal(t, map[string]string{"message_id": id, "local_id": "lab-001", "from": "X26ABC1", "to": "X26ABC2", "workflow": "PATH_BS_R4"}, en.Keys)
			require.Equal(t, map[string]string{"bytes": "10", "chunks": "1", "compressed": "false"}, en.Attrs)
		}
	}
}

func TestDownloadAfterAckConfigurable(t *testing.T) {
	e := start(t, WithGoneAfterAck(false))
	id, err := e.m.Deliver(context.Background(), "X26ABC2", "PATH_BS_R4", []byte("x"), "l1")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, e.do(http.MethodPut, "X26ABC2", "/X26ABC2/inbox/"+id+"/status/acknowledged", nil, nil).status)
	r := e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox/"+id, nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "x", string(r.body))
}

func TestChunkedUploadAndDownload(t *testing.T) {
	e := start(t)
	// The spec's "Bob sends Alice a chunked file" example, gzip per chunk.
	text := "Hi Alice,\nThis is Bob. It's really nice that we can communicate via SPINE!\nI hope to hear more from you in the future,\nBob.\n"
	c1, c2 := text[:100], text[100:]
	id := e.send("X26ABC1", "X26ABC2", "TEST_WORKFLOW", "api-docs-bob-sends-alice-a-chunked-file", gz(t, []byte(c1)),
		map[string]string{"mex-Chunk-Range": "1:2", "Content-Encoding": "gzip", "mex-FileName": "message.txt.gz"})
	require.Empty(t, e.inbox("X26ABC2"), "an uploading message is not delivered")
	require.Zero(t, kinds(e.m)["message.sent"])

	r := e.do(http.MethodPost, "X26ABC1", "/X26ABC1/outbox/"+id+"/2", map[string]string{"mex-Chunk-Range": "2:2", "Content-Encoding": "gzip", "Accept": v2}, gz(t, []byte(c2)))
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	require.Equal(t, id, r.json(t)["message_id"])
	r = e.do(http.MethodPost, "X26ABC1", "/X26ABC1/outbox/"+id+"/2", map[string]string{"mex-Chunk-Range": "2:2", "Content-Encoding": "gzip"}, gz(t, []byte(c2)))
	require.Equal(t, http.StatusLocked, r.status, "no more chunks once finalised")

	require.Equal(t, []string{id}, e.inbox("X26ABC2"))
	r = e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox/"+id, nil, nil)
	require.Equal(t, http.StatusPartialContent, r.status)
	require.Equal(t, "1:2", r.header.Get("Mex-Chunk-Range"))
	require.Equal(t, c1, string(r.body), "decompressed for a client that does not accept gzip")
	r = e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox/"+id+"/2", map[string]string{"Accept-Encoding": "gzip"}, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "2:2", r.header.Get("Mex-Chunk-Range"))
	require.Equal(t, "gzip", r.header.Get("Content-Encoding"))
	plain, err := gunzip(r.body)
	require.NoError(t, err)
	require.Equal(t, c2, string(plain))
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox/"+id+"/3", nil, nil).status)

	for _, en := range e.m.Journal().Entries() {
		if en.Kind == "message.sent" {
			require.Equal(t, "2", en.Attrs["chunks"])
			require.Equal(t, "true", en.Attrs["compressed"])
		}
	}
}

func TestChunkUploadErrors(t *testing.T) {
	e := start(t)
	id := e.send("X26ABC1", "X26ABC2", "TEST_WORKFLOW", "c", []byte("one"), map[string]string{"mex-Chunk-Range": "1:3"})
	rows := []struct {
		name, mbx, path string
		headers         map[string]string
		body            string
		want            int
	}{
		{"range mismatch", "X26ABC1", "/X26ABC1/outbox/" + id + "/2", map[string]string{"mex-Chunk-Range": "3:3"}, "b", http.StatusExpectationFailed},
		{"missing range", "X26ABC1", "/X26ABC1/outbox/" + id + "/2", nil, "b", http.StatusExpectationFailed},
		{"wrong total", "X26ABC1", "/X26ABC1/outbox/" + id + "/2", map[string]string{"mex-Chunk-Range": "2:4"}, "b", http.StatusExpectationFailed},
		{"chunk beyond total", "X26ABC1", "/X26ABC1/outbox/" + id + "/4", map[string]string{"mex-Chunk-Range": "4:4"}, "b", http.StatusNotAcceptable},
		{"encoding changed", "X26ABC1", "/X26ABC1/outbox/" + id + "/2", map[string]string{"mex-Chunk-Range": "2:3", "Content-Encoding": "gzip"}, "b", http.StatusExpectationFailed},
		{"unknown message", "X26ABC1", "/X26ABC1/outbox/20260302093000000000_ABCDEF/2", map[string]string{"mex-Chunk-Range": "2:3"}, "b", http.StatusNotFound},
		{"not the sender", "X26ABC3", "/X26ABC3/outbox/" + id + "/2", map[string]string{"mex-Chunk-Range": "2:3"}, "b", http.StatusForbidden},
		{"empty chunk", "X26ABC1", "/X26ABC1/outbox/" + id + "/2", map[string]string{"mex-Chunk-Range": "2:3"}, "", http.StatusExpectationFailed},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := e.do(http.MethodPost, row.mbx, row.path, row.headers, []byte(row.body))
			require.Equal(t, row.want, r.status, "body: %s", r.body)
		})
	}
}

func TestSendErrorCodes(t *testing.T) {
	e := start(t)
	base := func(extra map[string]string) map[string]string {
		h := map[string]string{"mex-To": "X26ABC2", "mex-WorkflowID": "TEST_WORKFLOW"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	rows := []struct {
		name    string
		headers map[string]string
		body    string
		want    int
		code    string
	}{
		{"missing mex-To", base(map[string]string{"mex-To": "-"}), "x", http.StatusBadRequest, CodeMissingTo},
		{"unregistered recipient", base(map[string]string{"mex-To": "X26NOPE"}), "x", http.StatusExpectationFailed, CodeUnregisteredTo},
		{"unregistered workflow", base(map[string]string{"mex-WorkflowID": "API-DOCS-TEST"}), "x", http.StatusExpectationFailed, CodeWorkflowNotAllowed},
		{"missing workflow", base(map[string]string{"mex-WorkflowID": "-"}), "x", http.StatusExpectationFailed, CodeMalformedHeaders},
		{"from mismatch", base(map[string]string{"mex-From": "X26ABC3"}), "x", http.StatusExpectationFailed, CodeInvalidFrom},
		{"empty body", base(nil), "", http.StatusExpectationFailed, CodeDataMissing},
		{"bad chunk range", base(map[string]string{"mex-Chunk-Range": "2:2"}), "x", http.StatusExpectationFailed, CodeInvalidChunks},
		{"unsupported encoding", base(map[string]string{"Content-Encoding": "br"}), "x", http.StatusUnprocessableEntity, CodeUnsupportedEncode},
		{"subject too long", base(map[string]string{"mex-Subject": strings.Repeat("s", 501)}), "x", http.StatusBadRequest, ""},
	}
	for _, row := range rows {
		for _, accept := range []string{"application/json", v2} {
			t.Run(row.name+"/"+accept, func(t *testing.T) {
				h := map[string]string{"Accept": accept}
				for k, v := range row.headers {
					h[k] = v
				}
				r := e.do(http.MethodPost, "X26ABC1", "/X26ABC1/outbox", h, []byte(row.body))
				require.Equal(t, row.want, r.status, "body: %s", r.body)
				if row.code == "" {
					return
				}
				b := r.json(t)
				if accept == v2 {
					d := b["detail"].([]any)[0].(map[string]any)
					require.Equal(t, row.code, d["code"])
					require.Equal(t, "SEND", d["event"])
				} else {
					require.Equal(t, row.code, b["errorCode"])
					require.Equal(t, "SEND", b["errorEvent"])
					require.NotEmpty(t, b["errorDescription"])
				}
			})
		}
	}
	require.Zero(t, kinds(e.m)["message.sent"], "no rejected send is stored")
}

func TestReadErrorCodes(t *testing.T) {
	e := start(t)
	id, err := e.m.Deliver(context.Background(), "X26ABC2", "PATH_BS_R4", []byte("x"), "")
	require.NoError(t, err)
	rows := []struct {
		name, method, mbx, path string
		headers                 map[string]string
		want                    int
	}{
		{"download missing", http.MethodGet, "X26ABC2", "/X26ABC2/inbox/20200529155357895317_3573F8", nil, http.StatusNotFound},
		{"download not recipient", http.MethodGet, "X26ABC3", "/X26ABC3/inbox/" + id, nil, http.StatusForbidden},
		{"ack missing", http.MethodPut, "X26ABC2", "/X26ABC2/inbox/20200529155357895317_3573F8/status/acknowledged", nil, http.StatusNotFound},
		{"ack not recipient", http.MethodPut, "X26ABC3", "/X26ABC3/inbox/" + id + "/status/acknowledged", nil, http.StatusNotFound},
		{"tracking missing", http.MethodGet, "X26ABC1", "/X26ABC1/outbox/tracking?messageID=20200529155357895317_3573F8", nil, http.StatusNotFound},
		{"tracking no query", http.MethodGet, "X26ABC1", "/X26ABC1/outbox/tracking", nil, http.StatusBadRequest},
		{"unknown vnd.mesh version", http.MethodGet, "X26ABC2", "/X26ABC2/inbox", map[string]string{"Accept": "application/vnd.mesh.v9+json"}, http.StatusBadRequest},
		{"handshake without client headers", http.MethodGet, "X26ABC2", "/X26ABC2", nil, http.StatusBadRequest},
		{"max_results out of range", http.MethodGet, "X26ABC2", "/X26ABC2/inbox?max_results=5", map[string]string{"Accept": v2}, http.StatusBadRequest},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := e.do(row.method, row.mbx, row.path, row.headers, nil)
			require.Equal(t, row.want, r.status, "body: %s", r.body)
		})
	}
	r := e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox/20200529155357895317_3573F8", map[string]string{"Accept": v2}, nil)
	d := r.json(t)["detail"].([]any)[0].(map[string]any)
	require.Equal(t, CodeNoSuchMessage, d["code"])
}

func TestVersionShapes(t *testing.T) {
	e := start(t)
	hs := map[string]string{"mex-ClientVersion": "ApiDocs==0.0.1", "mex-OSName": "Linux", "mex-OSVersion": "#44~18.04.2-Ubuntu"}
	withAccept := func(a string) map[string]string {
		h := map[string]string{"Accept": a}
		for k, v := range hs {
			h[k] = v
		}
		return h
	}
	rows := []struct {
		name, accept string
		v            int
	}{{"default", "-", 1}, {"json", "application/json", 1}, {"v1", "application/vnd.mesh.v1+json", 1}, {"v2", v2, 2}}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			r := e.do(http.MethodPost, "X26ABC1", "/X26ABC1/outbox", map[string]string{"Accept": row.accept, "mex-To": "X26ABC2", "mex-WorkflowID": "TEST_WORKFLOW", "mex-LocalID": "shape-" + row.name}, []byte("m"))
			require.Equal(t, http.StatusAccepted, r.status)
			b := r.json(t)
			var id string
			if row.v == 2 {
				require.Contains(t, b, "message_id")
				id = b["message_id"].(string)
				require.Regexp(t, `^\d{20}_[0-9A-F]{6}$`, id, "like the spec's 20200529155357895317_3573F8")
			} else {
				require.Contains(t, b, "messageID")
				id = b["messageID"].(string)
			}
			h := e.do(http.MethodGet, "X26ABC1", "/X26ABC1", withAccept(row.accept), nil).json(t)
			tr := e.do(http.MethodGet, "X26ABC1", "/X26ABC1/outbox/tracking?messageID="+id, map[string]string{"Accept": row.accept}, nil).json(t)
			in := e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox", map[string]string{"Accept": row.accept}, nil).json(t)
			ack := e.do(http.MethodPut, "X26ABC2", "/X26ABC2/inbox/"+id+"/status/acknowledged", map[string]string{"Accept": row.accept}, nil)
			if row.v == 2 {
				require.Equal(t, "X26ABC1", h["mailbox_id"])
				require.Equal(t, id, tr["message_id"])
				require.Equal(t, "accepted", tr["status"])
				require.Equal(t, true, tr["status_success"])
				require.Contains(t, in, "links")
				require.Contains(t, in, "approx_inbox_count")
				require.Empty(t, ack.body)
			} else {
				require.Equal(t, "X26ABC1", h["mailboxId"])
				require.Equal(t, id, tr["messageId"])
				require.Equal(t, id, tr["dtsId"])
				require.Equal(t, "Accepted", tr["status"])
				require.Contains(t, tr, "fileSize")
				require.NotContains(t, in, "links")
				require.Equal(t, id, ack.json(t)["messageId"])
			}
		})
	}
}

func TestInboxPagination(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	var ids []string
	for range 505 {
		id, err := e.m.Deliver(ctx, "X26ABC3", "PATH_BS_R4", []byte("r"), "")
		require.NoError(t, err)
		ids = append(ids, id)
	}
	r := e.do(http.MethodGet, "X26ABC3", "/X26ABC3/inbox", nil, nil)
	require.Len(t, r.json(t)["messages"], MaxInboxResults, "v1 caps at 500")

	var got []string
	path := "/X26ABC3/inbox?max_results=200"
	for pages := 0; path != ""; pages++ {
		require.Less(t, pages, 5)
		b := e.do(http.MethodGet, "X26ABC3", path, map[string]string{"Accept": v2}, nil).json(t)
		require.EqualValues(t, 505, b["approx_inbox_count"])
		for _, id := range b["messages"].([]any) {
			got = append(got, id.(string))
		}
		next, _ := b["links"].(map[string]any)["next"].(string)
		path = strings.TrimPrefix(next, BasePath)
	}
	require.Equal(t, ids, got)
}

func TestTrackingByLocalID(t *testing.T) {
	e := start(t)
	id := e.send("X26ABC1", "X26ABC2", "PATH_BS_R4", "order-42", []byte("x"), nil)
	for name, path := range map[string]string{
		"query":      "/X26ABC1/outbox/tracking?localID=order-42",
		"deprecated": "/X26ABC1/outbox/tracking/order-42",
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do(http.MethodGet, "X26ABC1", path, nil, nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			require.Equal(t, id, r.json(t)["messageId"])
			require.Equal(t, "order-42", r.json(t)["localId"])
		})
	}
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "X26ABC1", "/X26ABC1/outbox/tracking?localID=nope", nil, nil).status)
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "X26ABC3", "/X26ABC3/outbox/tracking?localID=order-42", nil, nil).status, "only the sender can track")
	e.send("X26ABC1", "X26ABC2", "PATH_BS_R4", "order-42", []byte("x"), nil)
	require.Equal(t, http.StatusMultipleChoices, e.do(http.MethodGet, "X26ABC1", "/X26ABC1/outbox/tracking?localID=order-42", nil, nil).status)
}

// A send whose 202 is lost: the message is stored, the client sees no
// answer. Tracking by local id shows it, so a correct client does not
// re-send; a naive re-POST makes the duplicate.
func TestLostSendResponseThenTracking(t *testing.T) {
	e := start(t)
	_, err := e.m.Faults().Add(inband.Spec{Kind: inband.LostResponse, Operations: []string{OpSend}})
	require.NoError(t, err)

	req, err := http.NewRequest(http.MethodPost, e.base+BasePath+"/X26ABC1/outbox", strings.NewReader("result"))
	require.NoError(t, err)
	req.Header.Set("Authorization", e.token("X26ABC1"))
	req.Header.Set("mex-To", "X26ABC2")
	req.Header.Set("mex-WorkflowID", "PATH_BS_R4")
	req.Header.Set("mex-LocalID", "result-7")
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err, "the 202 never arrives")
	e.m.Faults().Clear()

	r := e.do(http.MethodGet, "X26ABC1", "/X26ABC1/outbox/tracking?localID=result-7", map[string]string{"Accept": v2}, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "result-7", r.json(t)["local_id"])
	require.Equal(t, "accepted", r.json(t)["status"])
	require.Len(t, e.inbox("X26ABC2"), 1, "exactly one copy when the client tracks instead of re-sending")
	k := kinds(e.m)
	require.Equal(t, 1, k["message.sent"])
	require.Equal(t, 1, k["request.faulted"])
}

func TestUndeliveredReportAfterExpiry(t *testing.T) {
	e := start(t, WithExpiry(5*24*time.Hour))
	id := e.send("X26ABC1", "X26ABC2", "PATH_BS_R4", "uncollected", []byte("x"), map[string]string{"mex-Subject": "U&E"})
	e.clock.Advance(5*24*time.Hour - time.Minute)
	e.m.Sweep()
	require.Empty(t, e.inbox("X26ABC1"))
	e.clock.Advance(time.Minute)
	e.m.Sweep()
	require.Empty(t, e.inbox("X26ABC2"), "removed from the recipient's inbox")
	reports := e.inbox("X26ABC1")
	require.Len(t, reports, 1)
	r := e.do(http.MethodGet, "X26ABC1", "/X26ABC1/inbox/"+reports[0], nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Empty(t, r.body)
	for k, v := range map[string]string{"Mex-MessageType": "REPORT", "Mex-LinkedMsgID": id, "Mex-StatusCode": "14",
		"Mex-StatusSuccess": "ERROR", "Mex-To": "X26ABC2", "Mex-LocalID": "uncollected", "Mex-Subject": "U&E"} {
		require.Equal(t, v, r.header.Get(k), k)
	}
	require.Equal(t, http.StatusGone, e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox/"+id, nil, nil).status)
	tr := e.do(http.MethodGet, "X26ABC1", "/X26ABC1/outbox/tracking?messageID="+id, map[string]string{"Accept": v2}, nil).json(t)
	require.Equal(t, "undeliverable", tr["status"])
	require.Equal(t, false, tr["status_success"])
	require.Equal(t, 1, kinds(e.m)["report.undelivered"])
}

func TestStatusFaultsAreMESHShaped(t *testing.T) {
	e := start(t)
	rows := []struct {
		name string
		spec inband.Spec
		op   func() resp
		want int
	}{
		{"429 on list", inband.Spec{Kind: inband.Status, Status: 429, RetryAfter: time.Second, Operations: []string{OpListInbox}},
			func() resp {
				return e.do(http.MethodGet, "X26ABC2", "/X26ABC2/inbox", map[string]string{"Accept": v2}, nil)
			}, 429},
		{"503 on send", inband.Spec{Kind: inband.Status, Status: 503, Operations: []string{OpSend}},
			func() resp {
				return e.do(http.MethodPost, "X26ABC1", "/X26ABC1/outbox", map[string]string{"mex-To": "X26ABC2", "mex-WorkflowID": "TEST_WORKFLOW"}, []byte("x"))
			}, 503},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			id, err := e.m.Faults().Add(row.spec)
			require.NoError(t, err)
			defer func() { _, _ = e.m.Faults().Remove(id) }()
			r := row.op()
			require.Equal(t, row.want, r.status)
			b := r.json(t)
			if d, ok := b["detail"].([]any); ok {
				require.Equal(t, "429", d[0].(map[string]any)["code"])
				require.Equal(t, "1", r.header.Get("Retry-After"))
			} else {
				require.Equal(t, "503", b["errorCode"])
				require.Equal(t, "SEND", b["errorEvent"])
			}
		})
	}
	require.Zero(t, kinds(e.m)["message.sent"])
}

func TestDeliveryDelaySpike(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	a, err := e.m.Deliver(ctx, "X26ABC2", "PATH_BS_R4", []byte("a"), "a")
	require.NoError(t, err)
	e.m.SetDeliveryDelay(2 * time.Minute)
	require.Equal(t, 2*time.Minute, e.m.DeliveryDelay())
	b, err := e.m.Deliver(ctx, "X26ABC2", "PATH_BS_R4", []byte("b"), "b")
	require.NoError(t, err)
	require.Equal(t, []string{a}, e.inbox("X26ABC2"))
	e.clock.Advance(2 * time.Minute)
	require.Equal(t, []string{a, b}, e.inbox("X26ABC2"))

	_, err = e.m.Deliver(ctx, "X26NOPE", "PATH_BS_R4", nil, "")
	require.Error(t, err)
	_, err = e.m.Deliver(ctx, "X26ABC2", "NOPE", nil, "")
	require.Error(t, err)
}

func TestSeededIDs(t *testing.T) {
	ids := func() []string {
		c := newClock()
		m := New(WithSeed(3), WithClock(c.Now))
		var out []string
		for range 3 {
			id, err := m.Deliver(context.Background(), "X26ABC1", "TEST_WORKFLOW", []byte("x"), "")
			require.NoError(t, err)
			out = append(out, id)
		}
		return out
	}
	require.Equal(t, ids(), ids())
	m := New()
	require.Equal(t, "mesh", m.Name())
	require.Equal(t, "/messageexchange", m.BasePath())
	require.Equal(t, "", m.URL())
	require.NoError(t, m.Close())
	require.Len(t, m.Mailboxes(), 4)
}
