package gpconnect

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
)

// Slot layout: every weekday for SlotDays days from the day after the mock
// was created, each GP has 15-minute slots from 09:00 to 12:00 (UTC).
const (
	SlotDays        = 28
	slotLength      = 15 * time.Minute
	slotFirstHour   = 9
	slotLastHour    = 12
	maxSearchWindow = 14 * 24 * time.Hour // GP Connect limits a free slot search to 14 days
	apptBodyLimit   = 256 << 10
	serviceCategory = "General GP Appointments"
	serviceType     = "General GP Appointment"
)

type slot struct {
	id         string
	scheduleID string // the GP's practitioner id
	start, end time.Time
	booked     string // appointment id, or ""
}

type appointment struct {
	id        string
	version   int
	patient   int
	slotIDs   []string
	start     time.Time
	res       obj
	cancelled bool
}

func (m *Mock) buildSlots() {
	m.slotByID = map[string]*slot{}
	day := m.asOf.UTC().Truncate(24 * time.Hour)
	n := 0
	for d := 1; d <= SlotDays; d++ {
		date := day.AddDate(0, 0, d)
		if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for _, pr := range m.practitioners {
			for t := date.Add(slotFirstHour * time.Hour); t.Before(date.Add(slotLastHour * time.Hour)); t = t.Add(slotLength) {
				n++
				s := &slot{id: strconv.Itoa(n), scheduleID: pr.id, start: t, end: t.Add(slotLength)}
				m.slots = append(m.slots, s)
				m.slotByID[s.id] = s
			}
		}
	}
}

func slotResource(s *slot) obj {
	status := "free"
	if s.booked != "" {
		status = "busy"
	}
	return obj{
		"resourceType": "Slot",
		"id":           s.id,
		"meta":         meta(profileSlot, staticVersion),
		"extension":    arr{obj{"url": extDelivery, "valueCode": "In-person"}},
		"serviceType":  arr{obj{"text": serviceType}},
		"schedule":     ref("Schedule/" + s.scheduleID),
		"status":       status,
		"start":        fmtDateTime(s.start),
		"end":          fmtDateTime(s.end),
	}
}

func (m *Mock) scheduleResource(pr practitioner) obj {
	day := m.asOf.UTC().Truncate(24 * time.Hour)
	return obj{
		"resourceType":    "Schedule",
		"id":              pr.id,
		"meta":            meta(profileSchedule, staticVersion),
		"extension":       arr{obj{"url": extPractRole, "valueCodeableConcept": concept(coding(systemJobRole, "R0260", "General Medical Practitioner"))}},
		"serviceCategory": obj{"text": serviceCategory},
		"actor":           arr{ref("Location/" + m.locationID), ref("Practitioner/" + pr.id)},
		"planningHorizon": obj{
			"start": fmtDateTime(day.AddDate(0, 0, 1).Add(slotFirstHour * time.Hour)),
			"end":   fmtDateTime(day.AddDate(0, 0, SlotDays).Add(slotLastHour * time.Hour)),
		},
	}
}

// parseSearchDate reads a date search value with its prefix ("ge2024-06-03"
// or a full dateTime). A date-only upper bound covers the whole day.
func parseSearchDate(v, prefix string, upper bool) (time.Time, bool) {
	s, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return time.Time{}, false
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if upper {
			t = t.AddDate(0, 0, 1)
		}
		return t, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

var slotIncludes = []string{"Schedule:actor:Practitioner", "Schedule:actor:Location", "Location:managingOrganization"}

func (m *Mock) handleSearchSlot(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	one := func(name string) (string, *apiError) {
		if len(q[name]) != 1 {
			return "", invalidParameter("Want exactly one %s search parameter, got %d.", name, len(q[name]))
		}
		return q[name][0], nil
	}
	sv, e := one("start")
	if e != nil {
		writeError(w, e)
		return
	}
	ev, e := one("end")
	if e != nil {
		writeError(w, e)
		return
	}
	from, ok := parseSearchDate(sv, "ge", false)
	if !ok {
		writeError(w, invalidParameter("start %q must be ge followed by a date (start=ge2024-06-03).", sv))
		return
	}
	to, ok := parseSearchDate(ev, "le", true)
	if !ok {
		writeError(w, invalidParameter("end %q must be le followed by a date (end=le2024-06-10).", ev))
		return
	}
	if !to.After(from) {
		writeError(w, invalidParameter("end %s is before start %s.", ev, sv))
		return
	}
	if to.Sub(from) > maxSearchWindow+24*time.Hour {
		writeError(w, invalidParameter("The search period from %s to %s exceeds 14 days.", sv, ev))
		return
	}
	if st, e := one("status"); e != nil || st != "free" {
		writeError(w, invalidParameter("Want status=free; only free slots can be searched for."))
		return
	}
	if !slices.Contains(q["_include"], "Slot:schedule") {
		writeError(w, invalidParameter("Want _include=Slot:schedule."))
		return
	}
	for _, inc := range q["_include:recurse"] {
		if !slices.Contains(slotIncludes, inc) {
			writeError(w, invalidParameter("_include:recurse=%s is not supported; want one of %s.", inc, strings.Join(slotIncludes, ", ")))
			return
		}
	}
	for _, f := range q["searchFilter"] {
		system, _, ok := strings.Cut(f, "|")
		if !ok || (system != systemODS && system != systemOrgType) {
			writeError(w, invalidParameter("searchFilter %q must be %s|ODS code or %s|type.", f, systemODS, systemOrgType))
			return
		}
	}
	recurse := q["_include:recurse"]

	m.mu.Lock()
	var found []obj
	schedules := map[string]bool{}
	for _, s := range m.slots {
		if s.booked != "" || s.start.Before(from) || s.end.After(to) {
			continue
		}
		found = append(found, slotResource(s))
		schedules[s.scheduleID] = true
	}
	m.mu.Unlock()

	res := found
	if len(found) > 0 {
		var prs []practitioner
		for _, pr := range m.practitioners {
			if schedules[pr.id] {
				res = append(res, m.scheduleResource(pr))
				prs = append(prs, pr)
			}
		}
		if slices.Contains(recurse, "Schedule:actor:Practitioner") {
			for _, pr := range prs {
				res = append(res, m.practitionerResource(pr))
			}
		}
		if slices.Contains(recurse, "Schedule:actor:Location") {
			res = append(res, m.locationResource())
			if slices.Contains(recurse, "Location:managingOrganization") {
				res = append(res, m.organizationResource())
			}
		}
	}
	writeResource(w, rq, http.StatusOK, "", searchset(res...))
}

// appointmentElements are the STU3 Appointment elements.
var appointmentElements = []string{"resourceType", "id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension",
	"identifier", "status", "serviceCategory", "serviceType", "specialty", "appointmentType", "reason", "indication", "priority", "description",
	"supportingInformation", "start", "end", "minutesDuration", "slot", "created", "comment", "incomingReferral", "participant", "requestedPeriod"}

// decodeAppointment reads an Appointment body: 422 INVALID_RESOURCE when it
// is not one.
func decodeAppointment(r *http.Request) (obj, *apiError) {
	b, err := fhir.ReadBody(r.Body, apptBodyLimit, "decode Appointment")
	if err != nil {
		return nil, invalidResource("The request body is not a valid Appointment: %v.", err)
	}
	var res obj
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&res); err != nil || res == nil {
		return nil, invalidResource("The request body is not a JSON Appointment resource.")
	}
	if dec.More() {
		return nil, invalidResource("Unexpected data after the Appointment resource.")
	}
	if rt, _ := res["resourceType"].(string); rt != "Appointment" {
		return nil, invalidResource("resourceType is %v; want \"Appointment\".", res["resourceType"])
	}
	for k := range res {
		if !slices.Contains(appointmentElements, k) {
			return nil, invalidResource("Appointment has an unknown element %q.", k)
		}
	}
	return res, nil
}

func hasExtension(res obj, url string) (obj, bool) {
	exts, _ := res["extension"].(arr)
	for _, e := range exts {
		if o, ok := e.(obj); ok && o["url"] == url {
			return o, true
		}
	}
	return nil, false
}

// references returns the references of res[field] (an array of references
// or of {actor: reference}).
func references(v any, actor bool) []string {
	var out []string
	items, _ := v.(arr)
	for _, it := range items {
		o, _ := it.(obj)
		if actor {
			o, _ = o["actor"].(obj)
		}
		if s, ok := o["reference"].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func parseInstant(v any) (time.Time, bool) {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

func (m *Mock) handleBook(w http.ResponseWriter, r *http.Request, rq *request) {
	res, e := decodeAppointment(r)
	if e != nil {
		writeError(w, e)
		return
	}
	if _, has := res["id"]; has {
		writeError(w, invalidResource("A new Appointment must not have an id."))
		return
	}
	if res["status"] != "booked" {
		writeError(w, invalidResource("A new Appointment must have status booked, got %v.", res["status"]))
		return
	}
	if d, _ := res["description"].(string); strings.TrimSpace(d) == "" {
		writeError(w, invalidResource("A new Appointment needs a description."))
		return
	}
	if _, ok := hasExtension(res, extBookingOrg); !ok {
		writeError(w, invalidResource("A new Appointment needs the booking organisation extension (%s) pointing at a contained Organization.", extBookingOrg))
		return
	}
	start, okS := parseInstant(res["start"])
	end, okE := parseInstant(res["end"])
	if !okS || !okE || !end.After(start) {
		writeError(w, invalidResource("A new Appointment needs start and end instants, end after start."))
		return
	}
	patient := -1
	for _, p := range references(res["participant"], true) {
		if id, ok := strings.CutPrefix(p, "Patient/"); ok {
			i, found := m.patientIndex(id)
			if !found {
				writeError(w, errorf(http.StatusUnprocessableEntity, fhir.IssueInvalid, CodeReferenceNotFound, "Participant %s is not a patient of this practice.", p))
				return
			}
			patient = i
		}
	}
	if patient < 0 {
		writeError(w, invalidResource("A new Appointment needs a Patient participant."))
		return
	}
	slotRefs := references(res["slot"], false)
	if len(slotRefs) == 0 {
		writeError(w, invalidResource("A new Appointment needs at least one slot."))
		return
	}

	m.mu.Lock()
	var slots []*slot
	for _, sr := range slotRefs {
		s, ok := m.slotByID[strings.TrimPrefix(sr, "Slot/")]
		if !ok || !strings.HasPrefix(sr, "Slot/") {
			m.mu.Unlock()
			writeError(w, errorf(http.StatusUnprocessableEntity, fhir.IssueInvalid, CodeReferenceNotFound, "Slot %s does not exist.", sr))
			return
		}
		slots = append(slots, s)
	}
	sort.Slice(slots, func(a, b int) bool { return slots[a].start.Before(slots[b].start) })
	if !slots[0].start.Equal(start) || !slots[len(slots)-1].end.Equal(end) {
		m.mu.Unlock()
		writeError(w, invalidResource("Appointment start %s and end %s must match its slots (%s to %s).", res["start"], res["end"], fmtDateTime(slots[0].start), fmtDateTime(slots[len(slots)-1].end)))
		return
	}
	for _, s := range slots {
		if s.booked != "" {
			m.mu.Unlock()
			writeError(w, errorf(http.StatusConflict, "duplicate", CodeDuplicateRejected, "Slot %s is no longer free.", s.id))
			return
		}
	}
	m.nextAppt++
	a := &appointment{id: strconv.Itoa(m.nextAppt), version: 1, patient: patient, start: start}
	for _, s := range slots {
		s.booked = a.id
		a.slotIDs = append(a.slotIDs, s.id)
	}
	res["id"] = a.id
	res["meta"] = meta(profileAppointment, "1")
	if _, ok := hasExtension(res, extPractRole); !ok {
		res["extension"] = append(res["extension"].(arr), obj{"url": extPractRole, "valueCodeableConcept": concept(coding(systemJobRole, "R0260", "General Medical Practitioner"))})
	}
	if _, ok := hasExtension(res, extDelivery); !ok {
		res["extension"] = append(res["extension"].(arr), obj{"url": extDelivery, "valueCode": "In-person"})
	}
	if _, ok := res["serviceCategory"]; !ok {
		res["serviceCategory"] = obj{"text": serviceCategory}
	}
	if _, ok := res["serviceType"]; !ok {
		res["serviceType"] = arr{obj{"text": serviceType}}
	}
	if _, ok := res["created"]; !ok {
		res["created"] = fmtDateTime(m.now())
	}
	a.res = res
	m.appts[a.id] = a
	m.apptOrder = append(m.apptOrder, a.id)
	out := cloneObj(res)
	m.mu.Unlock()

	m.journalRecord("appointment.booked", map[string]string{keyAppointmentID: a.id, keyNHSNumber: m.patients[patient].NHSNumber, keyCorrelationID: r.Header.Get(headerTraceID)},
		map[string]string{"slots": strings.Join(a.slotIDs, ","), "start": fmtDateTime(start), "version": "1"})
	w.Header().Set("Location", rq.base+"/Appointment/"+a.id+"/_history/1")
	writeResource(w, rq, http.StatusCreated, "1", out)
}

func (m *Mock) handleReadAppointment(w http.ResponseWriter, _ *http.Request, rq *request) {
	m.mu.Lock()
	a, ok := m.appts[rq.vars["id"]]
	var out obj
	var version int
	if ok {
		out, version = cloneObj(a.res), a.version
	}
	m.mu.Unlock()
	if !ok {
		writeError(w, errorf(http.StatusNotFound, fhir.IssueNotFound, CodeNoRecordFound, "No appointment with id %q.", rq.vars["id"]))
		return
	}
	writeResource(w, rq, http.StatusOK, strconv.Itoa(version), out)
}

// ifMatchVersion reads If-Match (W/"n" or "n"); ok is false when absent.
func ifMatchVersion(h string) (string, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", false
	}
	return strings.Trim(strings.TrimPrefix(h, "W/"), `"`), true
}

func (m *Mock) handleUpdateAppointment(w http.ResponseWriter, r *http.Request, rq *request) {
	cancel := rq.interaction == InteractionCancelAppointment
	res, e := decodeAppointment(r)
	if e != nil {
		writeError(w, e)
		return
	}
	id := rq.vars["id"]
	if res["id"] != id {
		writeError(w, badRequest("The Appointment id %v does not match the URL's id %q.", res["id"], id))
		return
	}
	m.mu.Lock()
	a, ok := m.appts[id]
	if !ok {
		m.mu.Unlock()
		writeError(w, errorf(http.StatusNotFound, fhir.IssueNotFound, CodeNoRecordFound, "No appointment with id %q.", id))
		return
	}
	if v, given := ifMatchVersion(r.Header.Get("If-Match")); given && v != strconv.Itoa(a.version) {
		cur := a.version
		m.mu.Unlock()
		writeError(w, errorf(http.StatusConflict, fhir.IssueConflict, CodeConflict, "If-Match version %s is stale; the appointment is at version %d. Read it again and retry.", v, cur))
		return
	}
	if a.cancelled {
		m.mu.Unlock()
		writeError(w, invalidResource("Appointment %s is cancelled; a cancelled appointment cannot be amended or cancelled again.", id))
		return
	}
	for _, f := range []string{"start", "end", "slot", "participant"} {
		if !reflect.DeepEqual(res[f], a.res[f]) {
			m.mu.Unlock()
			writeError(w, invalidResource("Appointment %s cannot change %s; only description and comment can be amended, and a cancellation changes only status and the cancellation reason.", id, f))
			return
		}
	}
	kind := "appointment.amended"
	attrs := map[string]string{}
	if cancel {
		reason, ok := hasExtension(res, extCancelReason)
		text, _ := reason["valueString"].(string)
		if res["status"] != "cancelled" || !ok || strings.TrimSpace(text) == "" {
			m.mu.Unlock()
			writeError(w, invalidResource("A cancellation sets status cancelled and the cancellation reason extension (%s) with a valueString.", extCancelReason))
			return
		}
		a.res["status"] = "cancelled"
		// The reason goes after the booking organisation, as in the
		// published cancel example.
		exts, _ := a.res["extension"].(arr)
		exts = slices.DeleteFunc(slices.Clone(exts), func(x any) bool { o, _ := x.(obj); return o["url"] == extCancelReason })
		at := min(1, len(exts))
		a.res["extension"] = slices.Insert(exts, at, any(obj{"url": extCancelReason, "valueString": text}))
		a.cancelled = true
		for _, sid := range a.slotIDs {
			if s := m.slotByID[sid]; s != nil && s.booked == a.id {
				s.booked = ""
			}
		}
		kind, attrs["reason"] = "appointment.cancelled", text
	} else {
		if res["status"] != "booked" {
			m.mu.Unlock()
			writeError(w, invalidResource("An amendment keeps status booked (got %v); cancel with the cancel interaction (%s).", res["status"], InteractionCancelAppointment))
			return
		}
		if !a.start.After(m.now()) {
			m.mu.Unlock()
			writeError(w, invalidResource("Appointment %s is in the past; only future appointments can be amended.", id))
			return
		}
		for _, f := range []string{"description", "comment"} {
			if v, ok := res[f]; ok {
				a.res[f] = v
			} else {
				delete(a.res, f)
			}
		}
	}
	a.version++
	a.res["meta"] = meta(profileAppointment, strconv.Itoa(a.version))
	out, version, nhs := cloneObj(a.res), a.version, m.patients[a.patient].NHSNumber
	m.mu.Unlock()

	attrs["version"] = strconv.Itoa(version)
	m.journalRecord(kind, map[string]string{keyAppointmentID: id, keyNHSNumber: nhs, keyCorrelationID: r.Header.Get(headerTraceID)}, attrs)
	writeResource(w, rq, http.StatusOK, strconv.Itoa(version), out)
}

func (m *Mock) handlePatientAppointments(w http.ResponseWriter, r *http.Request, rq *request) {
	i, ok := m.patientIndex(rq.vars["id"])
	if !ok {
		writeError(w, errorf(http.StatusNotFound, fhir.IssueNotFound, CodePatientNotFound, "No patient with id %q.", rq.vars["id"]))
		return
	}
	var from, to time.Time
	for _, v := range r.URL.Query()["start"] {
		if t, ok := parseSearchDate(v, "ge", false); ok {
			from = t
			continue
		}
		if t, ok := parseSearchDate(v, "le", true); ok {
			to = t
			continue
		}
		writeError(w, invalidParameter("start %q must be ge or le followed by a date (start=ge2024-06-03&start=le2024-06-10).", v))
		return
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		writeError(w, invalidParameter("The start search range ends before it begins."))
		return
	}
	m.mu.Lock()
	var found []*appointment
	for _, id := range m.apptOrder {
		a := m.appts[id]
		if a.patient != i || (!from.IsZero() && a.start.Before(from)) || (!to.IsZero() && !a.start.Before(to)) {
			continue
		}
		found = append(found, a)
	}
	sort.SliceStable(found, func(x, y int) bool { return found[x].start.Before(found[y].start) })
	res := make([]obj, len(found))
	for k, a := range found {
		res[k] = cloneObj(a.res)
	}
	m.mu.Unlock()
	writeResource(w, rq, http.StatusOK, "", searchset(res...))
}
