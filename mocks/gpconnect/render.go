package gpconnect

import (
	"fmt"
	"strconv"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// Profiles of structured record resources.
const (
	profileBundle              = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-StructuredRecord-Bundle-1"
	profileList                = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-List-1"
	profileAllergy             = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-AllergyIntolerance-1"
	profileMedication          = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Medication-1"
	profileMedicationStatement = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-MedicationStatement-1"
	profileMedicationRequest   = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-MedicationRequest-1"
	profileCondition           = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-ProblemHeader-Condition-1"
	profileObservation         = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Observation-1"
	profileDiagnosticReport    = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-DiagnosticReport-1"
	profileSpecimen            = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Specimen-1"
	profileProcedureRequest    = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-ProcedureRequest-1"
	profileReferralRequest     = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-ReferralRequest-1"

	extSCTDesc        = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-coding-sctdescid"
	extAllergyEnd     = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-AllergyIntoleranceEnd-1"
	extLastIssue      = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-MedicationStatementLastIssueDate-1"
	extPrescribingAg  = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-PrescribingAgency-1"
	extPrescType      = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-PrescriptionType-1"
	extRepeatInfo     = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-MedicationRepeatInformation-1"
	extQuantityText   = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-MedicationQuantityText-1"
	extSignificance   = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-ProblemSignificance-1"
	systemListOrder   = "http://hl7.org/fhir/list-order"
	systemEmptyReason = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-ListEmptyReasonCode-1"
	systemUBRN        = "https://fhir.nhs.uk/Id/UBRN"
	systemUUID        = "https://tools.ietf.org/html/rfc4122"
	labName           = "SYNTHETIC GENERAL HOSPITAL PATHOLOGY"
	hospitalName      = "SYNTHETIC GENERAL HOSPITAL OUTPATIENTS"
	hospitalID        = "hospital-1"
	labID             = "lab-1"
)

// List codes of the clinical areas (SNOMED CT).
var listCodes = map[string][2]string{
	"allergies":      {"886921000000105", "Allergies and adverse reaction"},
	"resolved":       {"1103671000000101", "Ended allergies"},
	"medication":     {"933361000000108", "Medications and medical devices"},
	"problems":       {"717711000000103", "Problems"},
	"investigations": {"887191000000108", "Investigations and Results"},
	"referrals":      {"886721000000107", "Referral details"},
}

// recordCtx accumulates the entries of one structured record Bundle.
type recordCtx struct {
	m        *Mock
	i        int
	patient  string // "Patient/{id}"
	gp       practitioner
	recorder string // "PractitionerRole/{id}"
	entries  arr
	labAdded bool
}

func (c *recordCtx) add(resources ...obj) {
	for _, r := range resources {
		c.entries = append(c.entries, obj{"resource": r})
	}
}

func sct(code synthetic.Code) obj {
	return obj{
		"system":  synthetic.SNOMEDSystem,
		"code":    code.Code,
		"display": code.Display,
		"extension": arr{obj{"url": extSCTDesc, "extension": arr{
			obj{"url": "DescriptionID", "valueId": descriptionID(code.Code)},
		}}},
	}
}

// descriptionID makes a stable description id for a concept id (the
// catalogue holds concepts, not descriptions).
func descriptionID(concept string) string {
	n, _ := strconv.ParseUint(concept, 10, 64)
	return strconv.FormatUint(n%1_000_000_000*10+1, 10) + "016"
}

// list builds the List of one clinical area; an area with nothing to show
// gets emptyReason and a note instead of entries, as GP Connect requires.
func (c *recordCtx) list(area, title string, items []string) obj {
	code := listCodes[area]
	l := obj{
		"resourceType": "List",
		"meta":         obj{"profile": arr{profileList}},
		"status":       "current",
		"mode":         "snapshot",
		"title":        title,
		"code":         concept(coding(synthetic.SNOMEDSystem, code[0], code[1])),
		"subject":      ref(c.patient),
		"date":         fmtDateTime(c.m.asOf),
		"orderedBy":    concept(coding(systemListOrder, "event-date", "")),
	}
	if len(items) == 0 {
		l["emptyReason"] = concept(coding(systemEmptyReason, "no-content-recorded", "No Content Recorded"))
		l["note"] = arr{obj{"text": "Information not available."}}
		return l
	}
	entries := make(arr, len(items))
	for i, it := range items {
		entries[i] = obj{"item": ref(it)}
	}
	l["entry"] = entries
	return l
}

func (c *recordCtx) allergy(a synthetic.Allergy) obj {
	res := obj{
		"resourceType":       "AllergyIntolerance",
		"id":                 a.ID,
		"meta":               obj{"profile": arr{profileAllergy}},
		"identifier":         arr{obj{"system": systemDataID, "value": a.ID}},
		"clinicalStatus":     "active",
		"verificationStatus": "unconfirmed",
		"type":               a.Type,
		"category":           arr{a.Category},
		"criticality":        a.Criticality,
		"code":               obj{"coding": arr{sct(a.Code)}},
		"patient":            ref(c.patient),
		"assertedDate":       fmtDateTime(a.Asserted),
		"recorder":           ref(c.recorder),
		"reaction":           arr{obj{"manifestation": arr{obj{"coding": arr{sct(a.Reaction)}}}, "severity": a.Severity}},
		"note":               arr{obj{"text": a.Note}},
	}
	if a.Resolved() {
		res["clinicalStatus"] = "resolved"
		res["extension"] = arr{obj{"url": extAllergyEnd, "extension": arr{
			obj{"url": "endDate", "valueDateTime": fmtDate(a.Ended)},
			obj{"url": "reasonEnded", "valueString": "No recurrence reported"},
		}}}
	}
	return res
}

func (c *recordCtx) allergies(r synthetic.ClinicalRecord, resolved bool) {
	var active, items []string
	var resources []obj
	var ended arr
	var endedItems []string
	for _, a := range r.Allergies {
		if a.Resolved() {
			res := c.allergy(a)
			ended = append(ended, res)
			endedItems = append(endedItems, "#"+a.ID)
			continue
		}
		active = append(active, "AllergyIntolerance/"+a.ID)
		resources = append(resources, c.allergy(a))
	}
	items = active
	c.add(c.list("allergies", "Active Allergies", items))
	if resolved {
		// Ended allergies are carried in their own List, contained in it
		// (as the published allergies example does).
		l := c.list("resolved", "Resolved Allergies", endedItems)
		if len(ended) > 0 {
			l["contained"] = ended
		}
		c.add(l)
	}
	c.add(resources...)
}

func (c *recordCtx) medications(r synthetic.ClinicalRecord, issues bool, from time.Time) {
	var items []string
	var resources []obj
	for _, med := range r.Medications {
		last := med.Issues[len(med.Issues)-1].Issued
		if !from.IsZero() && !med.Active() && last.Before(from) && med.Ended.Before(from) {
			continue // finished before the search date
		}
		items = append(items, "MedicationStatement/"+med.StatementID)
		resources = append(resources, c.statement(med, last), c.plan(med))
		if issues {
			for _, is := range med.Issues {
				resources = append(resources, c.order(med, is))
			}
		}
		resources = append(resources, obj{
			"resourceType": "Medication",
			"id":           med.ID,
			"meta":         obj{"profile": arr{profileMedication}},
			"code":         obj{"coding": arr{sct(med.Drug)}},
		})
	}
	c.add(c.list("medication", "Medication List", items))
	c.add(resources...)
}

func (c *recordCtx) status(med synthetic.Medication) string {
	if med.Active() {
		return "active"
	}
	return "completed"
}

func (c *recordCtx) statement(med synthetic.Medication, last time.Time) obj {
	eff := obj{"start": fmtDate(med.Started)}
	if !med.Active() {
		eff["end"] = fmtDate(med.Ended)
	}
	return obj{
		"resourceType": "MedicationStatement",
		"id":           med.StatementID,
		"meta":         obj{"profile": arr{profileMedicationStatement}},
		"extension": arr{
			obj{"url": extLastIssue, "valueDateTime": fmtDate(last)},
			obj{"url": extPrescribingAg, "valueCodeableConcept": concept(coding("https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-PrescribingAgency-1", "prescribed-at-gp-practice", "Prescribed at GP practice"))},
		},
		"identifier":          arr{obj{"system": systemDataID, "value": med.StatementID}},
		"basedOn":             arr{ref("MedicationRequest/" + med.PlanID)},
		"status":              c.status(med),
		"medicationReference": ref("Medication/" + med.ID),
		"effectivePeriod":     eff,
		"dateAsserted":        fmtDate(med.Started),
		"subject":             ref(c.patient),
		"taken":               "unk",
		"note":                arr{obj{"text": "Synthetic record."}},
		"dosage":              arr{obj{"patientInstruction": "Read the leaflet.", "text": med.Dosage}},
	}
}

func (c *recordCtx) prescriptionType(med synthetic.Medication) obj {
	display := "Acute"
	if med.Type == "repeat" {
		display = "Repeat"
	}
	return obj{"url": extPrescType, "valueCodeableConcept": concept(coding("https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-PrescriptionType-1", med.Type, display))}
}

func (c *recordCtx) request(id string, med synthetic.Medication, intent string, authored time.Time, days int) obj {
	return obj{
		"resourceType":        "MedicationRequest",
		"id":                  id,
		"meta":                obj{"profile": arr{profileMedicationRequest}},
		"identifier":          arr{obj{"system": systemDataID, "value": id}},
		"status":              c.status(med),
		"intent":              intent,
		"medicationReference": ref("Medication/" + med.ID),
		"subject":             ref(c.patient),
		"authoredOn":          fmtDate(authored),
		"recorder":            ref(c.recorder),
		"note":                arr{obj{"text": "Synthetic prescription."}},
		"dosageInstruction":   arr{obj{"patientInstruction": "Read the leaflet.", "text": med.Dosage}},
		"dispenseRequest": obj{
			"expectedSupplyDuration": obj{"code": "d", "value": days, "unit": "day", "system": "http://unitsofmeasure.org"},
			"quantity":               obj{"extension": arr{obj{"url": extQuantityText, "valueString": fmt.Sprintf("%d %s(s)", days, med.Form)}}},
			"validityPeriod":         obj{"start": fmtDate(authored)},
		},
		"extension": arr{c.prescriptionType(med)},
	}
}

func (c *recordCtx) plan(med synthetic.Medication) obj {
	p := c.request(med.PlanID, med, "plan", med.Started, med.Issues[0].Days)
	if med.Type == "repeat" {
		p["extension"] = append(p["extension"].(arr), obj{"url": extRepeatInfo, "extension": arr{
			obj{"url": "numberOfRepeatPrescriptionsAllowed", "valueUnsignedInt": len(med.Issues) + 6},
			obj{"url": "numberOfRepeatPrescriptionsIssued", "valueUnsignedInt": len(med.Issues)},
		}})
	}
	return p
}

func (c *recordCtx) order(med synthetic.Medication, is synthetic.MedicationIssue) obj {
	o := c.request(is.ID, med, "order", is.Issued, is.Days)
	o["status"] = "completed"
	o["basedOn"] = arr{ref("MedicationRequest/" + med.PlanID)}
	return o
}

func (c *recordCtx) problems(r synthetic.ClinicalRecord, status, significance string) {
	var items []string
	var resources []obj
	for _, p := range r.Problems {
		if (status != "" && p.Status != status) || (significance != "" && p.Significance != significance) {
			continue
		}
		items = append(items, "Condition/"+p.ID)
		res := obj{
			"resourceType":   "Condition",
			"id":             p.ID,
			"meta":           obj{"profile": arr{profileCondition}},
			"extension":      arr{obj{"url": extSignificance, "valueCode": p.Significance}},
			"identifier":     arr{obj{"system": systemDataID, "value": p.ID}},
			"clinicalStatus": p.Status,
			"category":       arr{concept(coding("http://hl7.org/fhir/condition-category", "problem-list-item", "Problem List Item"))},
			"code":           obj{"coding": arr{sct(p.Code)}, "text": p.Code.Display},
			"subject":        ref(c.patient),
			"onsetDateTime":  fmtDateTime(p.Onset),
			"assertedDate":   fmtDateTime(p.Asserted),
			"asserter":       ref("Practitioner/" + c.gp.id),
		}
		if !p.Abated.IsZero() {
			res["abatementDateTime"] = fmtDateTime(p.Abated)
		}
		resources = append(resources, res)
	}
	c.add(c.list("problems", "Problems", items))
	c.add(resources...)
}

func (c *recordCtx) lab() obj {
	return obj{
		"resourceType": "Organization",
		"id":           labID,
		"meta":         meta(profileOrganization, staticVersion),
		"identifier":   arr{obj{"system": systemODS, "value": "ZZ" + c.m.creds.ODSCode[1:4]}},
		"name":         labName,
	}
}

func (c *recordCtx) investigations(r synthetic.ClinicalRecord, within *dateRange) {
	var items []string
	var resources []obj
	subject := obj{"reference": c.patient, "display": c.m.patients[c.i].Family + ", " + c.m.patients[c.i].Given}
	lab := obj{"reference": "Organization/" + labID, "display": labName}
	for _, inv := range r.Investigations {
		if !within.contains(inv.Collected) {
			continue
		}
		items = append(items, "DiagnosticReport/"+inv.ID)
		resources = append(resources,
			obj{
				"resourceType": "ProcedureRequest",
				"id":           inv.RequestID,
				"meta":         obj{"profile": arr{profileProcedureRequest}},
				"identifier":   arr{obj{"system": systemUUID, "value": inv.RequestID}},
				"status":       "active",
				"intent":       "order",
				"code":         concept(coding(synthetic.SNOMEDSystem, inv.Test.Code, inv.Test.Display)),
				"subject":      subject,
				"requester":    obj{"agent": obj{"reference": "Practitioner/" + c.gp.id, "display": c.gp.family}},
				"performer":    lab,
				"note":         arr{obj{"text": "Synthetic test request."}},
			})
		var results arr
		for _, res := range inv.Results {
			results = append(results, ref("Observation/"+res.ID))
		}
		resultRefs := results
		if len(inv.Results) > 1 {
			resultRefs = arr{ref("Observation/" + inv.FilingID)}
		}
		resources = append(resources,
			obj{
				"resourceType": "DiagnosticReport",
				"id":           inv.ID,
				"meta":         obj{"profile": arr{profileDiagnosticReport}},
				"identifier":   arr{obj{"system": systemUUID, "value": inv.ID}},
				"basedOn":      arr{ref("ProcedureRequest/" + inv.RequestID)},
				"status":       "final",
				"code":         concept(coding(synthetic.SNOMEDSystem, "721981007", "Diagnostic studies report")),
				"subject":      subject,
				"issued":       fmtDateTime(inv.Issued),
				"performer":    arr{obj{"actor": lab}},
				"specimen":     arr{ref("Specimen/" + inv.SpecimenID)},
				"result":       resultRefs,
			},
			obj{
				"resourceType": "Specimen",
				"id":           inv.SpecimenID,
				"meta":         obj{"profile": arr{profileSpecimen}},
				"identifier":   arr{obj{"system": systemUUID, "value": inv.SpecimenID}},
				"status":       "available",
				"type":         concept(coding(synthetic.SNOMEDSystem, inv.Specimen.Code, inv.Specimen.Display)),
				"subject":      subject,
				"receivedTime": fmtDateTime(inv.Collected.Add(2 * time.Hour)),
				"collection":   obj{"collectedDateTime": fmtDateTime(inv.Collected), "quantity": obj{"value": 5, "unit": "mL"}},
			})
		observation := func(id string, code synthetic.Code) obj {
			return obj{
				"resourceType": "Observation",
				"id":           id,
				"meta":         obj{"profile": arr{profileObservation}},
				"identifier":   arr{obj{"system": systemUUID, "value": id}},
				"status":       "final",
				"code":         concept(coding(synthetic.SNOMEDSystem, code.Code, code.Display)),
				"subject":      subject,
				"performer":    arr{lab},
				"specimen":     ref("Specimen/" + inv.SpecimenID),
			}
		}
		if len(inv.Results) > 1 {
			// A panel is filed under a test group header Observation.
			header := observation(inv.FilingID, inv.Test)
			related := make(arr, len(inv.Results))
			for k, res := range inv.Results {
				related[k] = obj{"type": "has-member", "target": ref("Observation/" + res.ID)}
			}
			header["related"] = related
			resources = append(resources, header)
		}
		for _, res := range inv.Results {
			o := observation(res.ID, res.Code)
			o["category"] = arr{concept(coding(synthetic.SNOMEDSystem, "394595002", "Pathology"))}
			o["effectiveDateTime"] = fmtDateTime(inv.Collected)
			o["valueQuantity"] = obj{"value": res.Value, "unit": res.Unit}
			o["referenceRange"] = arr{obj{"low": obj{"value": res.Low}, "high": obj{"value": res.High}}}
			if len(inv.Results) > 1 {
				o["related"] = arr{obj{"type": "derived-from", "target": ref("Observation/" + inv.FilingID)}}
			}
			resources = append(resources, o)
		}
	}
	c.add(c.list("investigations", "Investigations and Results", items))
	if len(items) > 0 && !c.labAdded {
		c.labAdded = true
		resources = append([]obj{c.lab()}, resources...)
	}
	c.add(resources...)
}

func (c *recordCtx) referrals(r synthetic.ClinicalRecord, within *dateRange) {
	var items []string
	var resources []obj
	for _, ref_ := range r.Referrals {
		if !within.contains(ref_.Authored) {
			continue
		}
		items = append(items, "ReferralRequest/"+ref_.ID)
		resources = append(resources, obj{
			"resourceType": "ReferralRequest",
			"id":           ref_.ID,
			"meta":         obj{"profile": arr{profileReferralRequest}},
			"identifier": arr{
				obj{"system": systemDataID, "value": ref_.ID},
				obj{"system": systemUBRN, "value": ref_.UBRN},
			},
			"status":      "unknown",
			"intent":      "order",
			"priority":    ref_.Priority,
			"subject":     ref(c.patient),
			"authoredOn":  fmtDateTime(ref_.Authored),
			"requester":   obj{"agent": ref("Practitioner/" + c.gp.id)},
			"recipient":   arr{obj{"reference": "Organization/" + hospitalID, "display": hospitalName}},
			"reasonCode":  arr{concept(coding(synthetic.SNOMEDSystem, ref_.Reason.Code, ref_.Reason.Display))},
			"description": ref_.Description,
		})
	}
	c.add(c.list("referrals", "Referral details", items))
	if len(items) > 0 {
		resources = append([]obj{{
			"resourceType": "Organization",
			"id":           hospitalID,
			"meta":         meta(profileOrganization, staticVersion),
			"identifier":   arr{obj{"system": systemODS, "value": "ZZH" + c.m.creds.ODSCode[1:3]}},
			"name":         hospitalName,
		}}, resources...)
	}
	c.add(resources...)
}
