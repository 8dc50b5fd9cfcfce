package gpconnect

import (
	"net/http"
	"strings"

	"github.com/shakedown-harness/shakedown/mocks/fhir"
	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// searchset wraps resources in a searchset Bundle, as the published find
// examples show it (no entry when nothing matched).
func searchset(resources ...obj) obj {
	b := obj{"resourceType": "Bundle", "type": "searchset"}
	if len(resources) > 0 {
		entries := make(arr, len(resources))
		for i, r := range resources {
			entries[i] = obj{"resource": r}
		}
		b["entry"] = entries
	}
	return b
}

// identifierParam reads the single identifier=system|value search parameter.
func identifierParam(r *http.Request, wantSystem string) (string, *apiError) {
	vals := r.URL.Query()["identifier"]
	if len(vals) != 1 {
		return "", badRequest("Want exactly one identifier search parameter (identifier=%s|value), got %d.", wantSystem, len(vals))
	}
	system, value, ok := strings.Cut(vals[0], "|")
	if !ok {
		return "", errorf(http.StatusBadRequest, fhir.IssueValue, CodeInvalidIdentifierSy, "identifier %q has no system; want %s|value.", vals[0], wantSystem)
	}
	if system != wantSystem {
		return "", errorf(http.StatusBadRequest, fhir.IssueValue, CodeInvalidIdentifierSy, "identifier system %q is not supported here; want %s.", system, wantSystem)
	}
	if strings.TrimSpace(value) == "" {
		return "", errorf(http.StatusBadRequest, fhir.IssueValue, CodeInvalidIdentifierVa, "identifier %q has no value.", vals[0])
	}
	return value, nil
}

func (m *Mock) handleMetadata(w http.ResponseWriter, _ *http.Request, rq *request) {
	writeResource(w, rq, http.StatusOK, "", m.capabilityStatement())
}

func (m *Mock) handleSearchPatient(w http.ResponseWriter, r *http.Request, rq *request) {
	nhs, e := identifierParam(r, systemNHSNumber)
	if e != nil {
		writeError(w, e)
		return
	}
	if err := synthetic.ValidateNHSNumber(nhs); err != nil {
		writeError(w, errorf(http.StatusBadRequest, fhir.IssueValue, CodeInvalidNHSNumber, "%v.", err))
		return
	}
	i, ok := m.byNHS[nhs]
	if !ok {
		writeResource(w, rq, http.StatusOK, "", searchset())
		return
	}
	writeResource(w, rq, http.StatusOK, "", searchset(m.patientResource(i)))
}

// patientIndex resolves a Patient logical id.
func (m *Mock) patientIndex(id string) (int, bool) {
	for i := range m.patients {
		if patientID(i) == id {
			return i, true
		}
	}
	return 0, false
}

func (m *Mock) handleReadPatient(w http.ResponseWriter, _ *http.Request, rq *request) {
	i, ok := m.patientIndex(rq.vars["id"])
	if !ok {
		writeError(w, errorf(http.StatusNotFound, fhir.IssueNotFound, CodePatientNotFound, "No patient with id %q.", rq.vars["id"]))
		return
	}
	writeResource(w, rq, http.StatusOK, staticVersion, m.patientResource(i))
}

func (m *Mock) handleSearchOrganization(w http.ResponseWriter, r *http.Request, rq *request) {
	ods, e := identifierParam(r, systemODS)
	if e != nil {
		writeError(w, e)
		return
	}
	if !strings.EqualFold(ods, m.creds.ODSCode) {
		writeResource(w, rq, http.StatusOK, "", searchset())
		return
	}
	writeResource(w, rq, http.StatusOK, "", searchset(m.organizationResource()))
}

func (m *Mock) handleReadOrganization(w http.ResponseWriter, _ *http.Request, rq *request) {
	if rq.vars["id"] != m.orgID {
		writeError(w, errorf(http.StatusNotFound, fhir.IssueNotFound, CodeOrganisationNotFnd, "No organisation with id %q.", rq.vars["id"]))
		return
	}
	writeResource(w, rq, http.StatusOK, staticVersion, m.organizationResource())
}

func (m *Mock) handleSearchPractitioner(w http.ResponseWriter, r *http.Request, rq *request) {
	sds, e := identifierParam(r, systemSDSUser)
	if e != nil {
		writeError(w, e)
		return
	}
	for _, pr := range m.practitioners {
		if pr.sdsUserID == sds {
			writeResource(w, rq, http.StatusOK, "", searchset(m.practitionerResource(pr)))
			return
		}
	}
	writeResource(w, rq, http.StatusOK, "", searchset())
}

func (m *Mock) handleReadPractitioner(w http.ResponseWriter, _ *http.Request, rq *request) {
	pr, ok := m.practitioner(rq.vars["id"])
	if !ok {
		writeError(w, errorf(http.StatusNotFound, fhir.IssueNotFound, CodePractitionerNotFnd, "No practitioner with id %q.", rq.vars["id"]))
		return
	}
	writeResource(w, rq, http.StatusOK, staticVersion, m.practitionerResource(pr))
}

func (m *Mock) handleReadLocation(w http.ResponseWriter, _ *http.Request, rq *request) {
	if rq.vars["id"] != m.locationID {
		writeError(w, errorf(http.StatusNotFound, fhir.IssueNotFound, CodeNoRecordFound, "No location with id %q.", rq.vars["id"]))
		return
	}
	writeResource(w, rq, http.StatusOK, staticVersion, m.locationResource())
}

// capabilityStatement describes what this mock serves, in the shape of the
// published GP Connect 1.6 example.
func (m *Mock) capabilityStatement() obj {
	profiles := []string{
		profilePatient, profileOrganization, profilePractitioner, profilePractitionerRole, profileLocation,
		outcomeProfile, profileAppointment, profileSchedule, profileSlot,
		profileAllergy, profileMedication, profileMedicationStatement, profileMedicationRequest, profileList,
		profileBundle, profileCondition, profileObservation, profileDiagnosticReport, profileSpecimen,
		profileProcedureRequest, profileReferralRequest,
	}
	profs := make(arr, len(profiles))
	for i, p := range profiles {
		profs[i] = ref(p)
	}
	interactions := func(codes ...string) arr {
		out := make(arr, len(codes))
		for i, c := range codes {
			out[i] = obj{"code": c}
		}
		return out
	}
	token := func(name, doc string) obj { return obj{"name": name, "type": "token", "documentation": doc} }
	return obj{
		"resourceType":  "CapabilityStatement",
		"version":       "1.6.2",
		"name":          "GP Connect",
		"status":        "active",
		"date":          fmtDate(m.asOf),
		"publisher":     "shakedown (synthetic GP Connect provider)",
		"contact":       arr{obj{"name": "shakedown maintainers"}},
		"description":   "A synthetic GP Connect provider for integration testing; never a real GP system.",
		"copyright":     "Synthetic data only.",
		"kind":          "capability",
		"software":      obj{"name": "shakedown gpconnect mock", "version": "1", "releaseDate": fmtDate(m.asOf)},
		"fhirVersion":   FHIRVersion,
		"acceptUnknown": "both",
		"format":        arr{fhir.MediaTypeFHIRJSON},
		"profile":       profs,
		"rest": arr{obj{
			"mode":     "server",
			"security": obj{"cors": true},
			"resource": arr{
				obj{"type": "Patient", "interaction": interactions("read", "search-type"), "searchParam": arr{token("identifier", "NHS Number (i.e. https://fhir.nhs.uk/Id/nhs-number|123456789)")}},
				obj{"type": "Organization", "interaction": interactions("read", "search-type"), "searchParam": arr{token("identifier", "ODS Code (i.e. https://fhir.nhs.uk/Id/ods-organization-code|Y12345)")}},
				obj{"type": "Practitioner", "interaction": interactions("read", "search-type"), "searchParam": arr{token("identifier", "SDS User Id (i.e. https://fhir.nhs.uk/Id/sds-user-id|999999)")}},
				obj{"type": "Location", "interaction": interactions("read")},
				obj{"type": "Appointment", "interaction": interactions("read", "create", "update", "search-type"), "updateCreate": false, "searchParam": arr{token("identifier", "NHS Number (i.e. https://fhir.nhs.uk/Id/nhs-number|123456789)")}},
				obj{"type": "Slot", "interaction": interactions("search-type"),
					"searchInclude": arr{"Schedule:actor:Location", "Schedule:actor:Practitioner", "Slot:schedule", "Location:managingOrganization"},
					"searchParam":   arr{obj{"name": "start", "type": "date"}, obj{"name": "end", "type": "date"}, obj{"name": "status", "type": "token"}, obj{"name": "searchFilter", "type": "token"}}},
			},
			"operation": arr{
				obj{"name": "gpc.getstructuredrecord", "definition": ref("https://fhir.nhs.uk/STU3/OperationDefinition/GPConnect-GetStructuredRecord-Operation-1/_history/1.15")},
			},
		}},
	}
}
