package ers

import "strings"

// FHIR systems and profiles e-RS uses.
const (
	systemNHSNumber       = "http://fhir.nhs.net/Id/nhs-number"
	systemERSService      = "http://fhir.nhs.net/Id/ers-service"
	systemSDSUserSTU3     = "http://fhir.nhs.net/Id/sds-user-id"
	systemSDSUserR4       = "https://fhir.nhs.uk/Id/sds-user-id"
	systemODS             = "https://fhir.nhs.uk/Id/ods-organization-code"
	systemRequestID       = "https://fhir.nhs.uk/Id/ers-request-id"
	systemPriority        = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-Priority-1"
	systemReferralState   = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralState-1"
	systemLetterIntention = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralLetterIntention-1"
	systemCommissioning   = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-CommissioningProvisioning-1"
	systemReviewReason    = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReviewReason-1"
	systemListSelector    = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralListSelector-1"
	systemCommsSelector   = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-CommunicationListSelector-1"
	systemRequestContext  = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-RequestContextStatus-1"
	systemReferralType    = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ReferralType-1"
	systemClinicalInfo    = "https://fhir.nhs.uk/STU3/CodeSystem/eRS-ClinicalInformationStatus-1"
	systemBusinessFunc    = "https://fhir.nhs.uk/CodeSystem/eRS-BusinessFunction-1"

	// Suffixes of the e-RS reference-data code systems, which live under the
	// API base URL (the examples spell it _baseUrl_).
	suffixSpecialty          = "/STU3/CodeSystem/SPECIALTY"
	suffixCancellationReason = "/STU3/CodeSystem/REFERRAL-CANCELLATION-REASON"
	suffixRequestCancelReas  = "/STU3/CodeSystem/REQUEST-CANCELLATION-REASON"

	sd                        = "https://fhir.nhs.uk/STU3/StructureDefinition/"
	profileReferralRequest    = sd + "eRS-ReferralRequest-1"
	profileCreateReferral     = sd + "eRS-CreateReferral-Parameters-1"
	profileShortlist          = sd + "eRS-Shortlist-List-1"
	profileSearchCriteria     = sd + "eRS-ServiceSearchCriteria-Parameters-1"
	profileWorklist           = sd + "eRS-FetchWorklist-List-1"
	profileCancelResponse     = sd + "eRS-CancelReferral-Response-Parameters-1"
	profileAppointment        = sd + "eRS-Appointment-1"
	profileCCAppointment      = "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Appointment-1"
	profilePatient            = sd + "eRS-Patient-1"
	extPriority               = sd + "Extension-eRS-ReferralPriority-1"
	extPathwayStart           = sd + "Extension-eRS-eReferralPathwayStart-1"
	extShortlist              = sd + "Extension-eRS-ReferralShortlist-1"
	extCommissioningRuleOrg   = sd + "Extension-eRS-Commissioning-Rule-Org-1"
	extReferralState          = sd + "Extension-eRS-ReferralState-1"
	extShortlistCriteria      = sd + "Extension-eRS-Shortlist-SearchCriteria-1"
	extAppointment            = sd + "Extension-eRS-Appointment-1"
	extAppointmentReference   = sd + "Extension-eRS-Appointment-Reference-1"
	extAwaitingBookingItem    = sd + "Extension-eRS-AwaitingBooking-WorkListItem-1"
	extLettersOutstandingItem = sd + "Extension-eRS-LettersOutstanding-WorkListItem-1"
	extRejectedTriageItem     = sd + "Extension-eRS-RejectedTriageResponse-WorkListItem-1"
	extAssessmentReturnedItem = sd + "Extension-eRS-AssessmentReturnedCancelledDna-WorkListItem-1"
	extReferralsForReviewItem = sd + "Extension-eRS-ReferralsforReview-WorkListItem-1"
	extSlotIssuesItem         = sd + "Extension-eRS-AppointmentSlotIssues-WorkListItem-1"
)

// Business functions (NHSD-eRS-Business-Function values).
const (
	BFReferringClinician                  = "REFERRING_CLINICIAN"
	BFReferringClinicianAdmin             = "REFERRING_CLINICIAN_ADMIN"
	BFReferringAdmin                      = "REFERRING_ADMIN"
	BFServiceProviderClinician            = "SERVICE_PROVIDER_CLINICIAN"
	BFServiceProviderClinicianAdmin       = "SERVICE_PROVIDER_CLINICIAN_ADMIN"
	BFServiceProviderAdmin                = "SERVICE_PROVIDER_ADMIN"
	headerAuthorization                   = "Authorization"
	headerODS                             = "NHSD-End-User-Organisation-ODS"
	headerBusinessFunction                = "NHSD-eRS-Business-Function"
	headerOnBehalfOf                      = "NHSD-eRS-On-Behalf-Of-User-ID"
	headerCorrelationID                   = "X-Correlation-ID"
	headerRequestID                       = "X-Request-ID"
	headerIfMatch                         = "If-Match"
	headerETag                            = "ETag"
	fhirVersionSTU3                       = "3.0.1"
	fhirVersionR4                         = "4.0.1"
	maxShortlist                          = 20
	maxCancellationComment                = 2000
	bodyLimit                       int64 = 1 << 20
)

var (
	referrerFunctions = []string{BFReferringClinician, BFReferringClinicianAdmin, BFReferringAdmin}
	providerFunctions = []string{BFServiceProviderClinician, BFServiceProviderClinicianAdmin, BFServiceProviderAdmin}
	createFunctions   = []string{BFReferringClinician, BFReferringClinicianAdmin}
	cancelFunctions   = []string{BFReferringClinician, BFReferringClinicianAdmin, BFServiceProviderClinician, BFServiceProviderClinicianAdmin}
	readFunctions     = append(append([]string{}, referrerFunctions...), providerFunctions...)
)

// Referral states (Extension-eRS-ReferralState-1).
const (
	StateNotBooked               = "NOT_BOOKED"
	StateBooked                  = "BOOKED"
	StateDeferredToProvider      = "DEFERRED_TO_PROVIDER"
	StateAwaitingTriage          = "AWAITING_TRIAGE"
	StateTriagedProviderToAction = "TRIAGED_PROVIDER_TO_ACTION"
	StateTriageResponse          = "TRIAGE_RESPONSE"
	StateAssessmentResult        = "ASSESSMENT_RESULT"
	StateRejected                = "REJECTED"
	StateApptCancelledByPatient  = "APPT_CANCELLED_BY_PATIENT"
	StateApptCancelledByProvider = "APPT_CANCELLED_BY_PROVIDER"
	StateDidNotAttend            = "DID_NOT_ATTEND"
	StateCancelledReferral       = "CANCELLED_REFERRAL"
)

var stateDisplay = map[string]string{
	StateNotBooked:               "Not Booked",
	StateBooked:                  "Booked",
	StateDeferredToProvider:      "Deferred to Provider",
	StateAwaitingTriage:          "Awaiting Triage",
	StateTriagedProviderToAction: "Triaged - Provider to Action",
	StateTriageResponse:          "Triage Response",
	StateAssessmentResult:        "Assessment Result",
	StateRejected:                "Rejected",
	StateApptCancelledByPatient:  "Appointment cancelled by patient",
	StateApptCancelledByProvider: "Appointment cancelled by provider",
	StateDidNotAttend:            "Did not attend",
	StateCancelledReferral:       "Cancelled Referral",
}

var priorityDisplay = map[string]string{
	"ROUTINE":       "Routine",
	"URGENT":        "Urgent",
	"TWO_WEEK_WAIT": "Two Week Wait",
}

// cancellationReason is one REFERRAL-CANCELLATION-REASON concept usable with
// A036 (from the e-RS code system).
type cancellationReason struct {
	Display          string
	CommentMandatory bool
	Functions        []string
}

var (
	referrerAndProvider = []string{BFReferringClinician, BFReferringClinicianAdmin, BFServiceProviderClinician, BFServiceProviderClinicianAdmin}
	referrerOnly        = []string{BFReferringClinician, BFReferringClinicianAdmin}
	providerOnly        = []string{BFServiceProviderClinician, BFServiceProviderClinicianAdmin}
)

var cancellationReasons = map[string]cancellationReason{
	"BOOKED_CLINICAL_NEED":               {"Booked more urgently due to clinical need", true, providerOnly},
	"BOOKED_OUTSIDE_CAB":                 {"Patient booked outside NHS e-Referral Service", false, providerOnly},
	"COMMUNITY_SERVICE_NA":               {"Sent to community service not available in this system", true, providerOnly},
	"COMPLEX_PATHWAY":                    {"Complex pathway, multiple appointments needed", true, providerOnly},
	"INTEND_PRIVATE":                     {"Patient will go to a private clinic", false, referrerAndProvider},
	"NO_LONGER_REQUIRED":                 {"Referral is no longer required", true, providerOnly},
	"OTHER_OTHER":                        {"Other reason", true, providerOnly},
	"OUTPATIENT_CLINICIAN_NA":            {"Sent to outpatient service as named clinician is not available in this system", true, providerOnly},
	"OUTPATIENT_SERVICE_NA":              {"Sent to outpatient service not available in this system", true, providerOnly},
	"PATIENT_DIED":                       {"Patient died", false, referrerAndProvider},
	"PATIENT_REQUEST_CANCELLATION_OTHER": {"Other", true, referrerAndProvider},
	"RAISED_IN_ERROR":                    {"Referral created by mistake", false, referrerOnly},
	"REFERRER_CANCELLATION":              {"Other - Referrer request cancellation", false, referrerOnly},
	"STRAIGHT_TO_TEST":                   {"Sent straight to test / procedure", true, providerOnly},
	"TREATMENT_NO_LONGER_REQUIRED":       {"Referral no longer needed", false, referrerAndProvider},
	"TRIAGE_ENDED":                       {"Triage Ended", false, providerOnly},
}

// titleCase turns a code such as "HEART_FAILURE" into "Heart failure", for
// displays of reference data the mock does not hold.
func titleCase(code string) string {
	s := strings.ToLower(strings.ReplaceAll(code, "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// hasSuffixSystem accepts a reference-data system under any base URL
// (clients send the real base URL; the examples send _baseurl_).
func hasSuffixSystem(system, suffix string) bool {
	return strings.HasSuffix(strings.ToUpper(system), strings.ToUpper(suffix))
}
