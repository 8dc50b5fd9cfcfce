package gpconnect

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shakedown-harness/shakedown/mocks/synthetic"
)

// Profiles, systems and extension URLs of GP Connect resources.
const (
	profilePatient          = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1"
	profileOrganization     = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"
	profilePractitioner     = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Practitioner-1"
	profilePractitionerRole = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-PractitionerRole-1"
	profileLocation         = "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Location-1"
	profileSlot             = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Slot-1"
	profileSchedule         = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Schedule-1"
	profileAppointment      = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"

	systemNHSNumber   = "https://fhir.nhs.uk/Id/nhs-number"
	systemODS         = "https://fhir.nhs.uk/Id/ods-organization-code"
	systemSDSUser     = "https://fhir.nhs.uk/Id/sds-user-id"
	systemSDSRole     = "https://fhir.nhs.uk/Id/sds-role-profile-id"
	systemOrgType     = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1"
	systemJobRole     = "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1"
	systemDataID      = "https://provider.nhs.uk/data-identifier"
	extRegistration   = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RegistrationDetails-1"
	extNHSComm        = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSCommunication-1"
	extNHSNumberVerif = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1"
	extBookingOrg     = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1"
	extPractRole      = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-PractitionerRole-1"
	extDelivery       = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2"
	extCancelReason   = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1"
)

// obj is a JSON object under construction; resources are built as obj so
// that their shape can follow the published examples field by field.
type obj = map[string]any

// arr is a JSON array.
type arr = []any

func meta(profile string, version string) obj {
	m := obj{"profile": arr{profile}}
	if version != "" {
		m["versionId"] = version
	}
	return m
}

func coding(system, code, display string) obj {
	c := obj{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return c
}

func concept(codings ...obj) obj {
	a := make(arr, len(codings))
	for i, c := range codings {
		a[i] = c
	}
	return obj{"coding": a}
}

func ref(s string) obj { return obj{"reference": s} }

// practitioner is one GP at the practice.
type practitioner struct {
	id, sdsUserID, family, given, prefix, gender string
}

// practice is the organisation the mock plays: its GPs, its one surgery
// (Location) and one appointment Schedule per GP.
type practice struct {
	orgID, name, phone string
	address            obj
	practitioners      []practitioner
	locationID         string
}

func newPractice(seed uint64, ods string) practice {
	rng := rand.New(rand.NewPCG(seed, 0x9ac))
	p := practice{
		orgID:      "1",
		name:       "Synthetic Practice " + ods,
		phone:      fmt.Sprintf("0300 %03d %04d", rng.IntN(1000), rng.IntN(10000)),
		locationID: "1",
		address: obj{
			"line":       arr{fmt.Sprintf("%d Test Street", 1+rng.IntN(200)), "Example Town"},
			"city":       "Leeds",
			"district":   "West Yorkshire",
			"postalCode": fmt.Sprintf("LS%d %dZZ", 1+rng.IntN(9), rng.IntN(10)),
		},
	}
	names := []struct{ family, given, prefix, gender string }{
		{"SYNTHETIC", "Robin", "Dr", "female"},
		{"EXAMPLE", "Kit", "Dr", "male"},
	}
	for i, n := range names {
		p.practitioners = append(p.practitioners, practitioner{
			id:        fmt.Sprint(i + 1),
			sdsUserID: fmt.Sprintf("%012d", rng.Int64N(1_000_000_000_000)),
			family:    n.family, given: n.given, prefix: n.prefix, gender: n.gender,
		})
	}
	return p
}

func (p *practice) practitioner(id string) (practitioner, bool) {
	for _, pr := range p.practitioners {
		if pr.id == id {
			return pr, true
		}
	}
	return practitioner{}, false
}

// version returns a versionId for seeded resources that never change.
const staticVersion = "1"

func (m *Mock) organizationResource() obj {
	return obj{
		"resourceType": "Organization",
		"id":           m.orgID,
		"meta":         meta(profileOrganization, staticVersion),
		"identifier":   arr{obj{"system": systemODS, "value": m.creds.ODSCode}},
		"name":         m.name,
		"address":      arr{cloneObj(m.address)},
		"telecom":      arr{obj{"system": "phone", "value": m.phone, "use": "work"}},
	}
}

func (m *Mock) practitionerResource(pr practitioner) obj {
	mt := meta(profilePractitioner, staticVersion)
	mt["lastUpdated"] = fmtDateTime(m.asOf.AddDate(0, -1, 0))
	return obj{
		"resourceType": "Practitioner",
		"id":           pr.id,
		"meta":         mt,
		"identifier":   arr{obj{"system": systemSDSUser, "value": pr.sdsUserID}},
		"name":         arr{obj{"use": "usual", "family": pr.family, "given": arr{pr.given}, "prefix": arr{pr.prefix}}},
		"gender":       pr.gender,
	}
}

func (m *Mock) practitionerRoleResource(pr practitioner) obj {
	return obj{
		"resourceType": "PractitionerRole",
		"id":           "role-" + pr.id,
		"meta":         obj{"profile": arr{profilePractitionerRole}},
		"practitioner": ref("Practitioner/" + pr.id),
		"organization": ref("Organization/" + m.orgID),
		"code":         arr{concept(coding("https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1", "R0260", "General Medical Practitioner"))},
	}
}

func (m *Mock) locationResource() obj {
	return obj{
		"resourceType":         "Location",
		"id":                   m.locationID,
		"meta":                 meta(profileLocation, staticVersion),
		"name":                 m.name + " Surgery",
		"address":              arr{cloneObj(m.address)},
		"telecom":              arr{obj{"system": "phone", "value": m.phone, "use": "work"}},
		"managingOrganization": ref("Organization/" + m.orgID),
	}
}

// patientID is the logical id of patient i.
func patientID(i int) string { return fmt.Sprint(i + 1) }

// usualGP is patient i's registered GP.
func (m *Mock) usualGP(i int) practitioner { return m.practitioners[i%len(m.practitioners)] }

func (m *Mock) patientResource(i int) obj {
	p := m.patients[i]
	registered := m.asOf.UTC().AddDate(-(1 + i%30), 0, -(i % 200)).Truncate(24 * time.Hour)
	name := obj{"use": "official", "text": fmt.Sprintf("%s %s", p.Family, p.Given), "family": p.Family, "given": arr{p.Given}, "prefix": arr{prefixFor(p)}}
	return obj{
		"resourceType": "Patient",
		"id":           patientID(i),
		"meta":         meta(profilePatient, staticVersion),
		"extension": arr{
			obj{"url": extRegistration, "extension": arr{
				obj{"url": "registrationPeriod", "valuePeriod": obj{"start": fmtDateTime(registered)}},
				obj{"url": "preferredBranchSurgery", "valueReference": ref("Location/" + m.locationID)},
			}},
			obj{"url": extNHSComm, "extension": arr{
				obj{"url": "language", "valueCodeableConcept": concept(coding("https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-HumanLanguage-1", "en", "English"))},
				obj{"url": "interpreterRequired", "valueBoolean": false},
			}},
		},
		"identifier": arr{obj{
			"extension": arr{obj{"url": extNHSNumberVerif, "valueCodeableConcept": concept(coding("https://fhir.nhs.uk/CareConnect-NHSNumberVerificationStatus-1", "01", "Number present and verified"))}},
			"system":    systemNHSNumber,
			"value":     p.NHSNumber,
		}},
		"active":               true,
		"name":                 arr{name},
		"telecom":              arr{obj{"system": "phone", "value": fmt.Sprintf("0113 496 %04d", i%10000), "use": "home"}},
		"gender":               p.Gender,
		"birthDate":            p.BirthDate,
		"address":              arr{obj{"use": "home", "type": "physical", "line": arr{fmt.Sprintf("%d Synthetic Road", 1+i), "Example Town"}, "city": "Leeds", "district": "West Yorkshire", "postalCode": "LS1 1ZZ"}},
		"generalPractitioner":  arr{ref("Practitioner/" + m.usualGP(i).id)},
		"managingOrganization": ref("Organization/" + m.orgID),
	}
}

func prefixFor(p synthetic.Patient) string {
	switch p.Gender {
	case "female":
		return "Ms"
	case "male":
		return "Mr"
	}
	return "Mx"
}

func cloneObj(o obj) obj {
	out := make(obj, len(o))
	for k, v := range o {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case obj:
		return cloneObj(t)
	case arr:
		out := make(arr, len(t))
		for i, e := range t {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}

// Time formats used in resources.
func fmtDate(t time.Time) string     { return t.UTC().Format("2006-01-02") }
func fmtDateTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }
