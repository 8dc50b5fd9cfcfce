// Package gpconnect owns the GP Connect mock: an in-memory GP clinical system
// acting as a GP Connect provider (FHIR STU3), real enough that an unchanged
// consumer works against it, for one synthetic practice whose FHIR base is
// "/{ODS}/STU3/1/gpconnect/fhir".
//
// It serves, with the real headers, statuses and bodies:
//
//	GET  /metadata                               CapabilityStatement (fhirVersion 3.0.1)
//	GET  /Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}   searchset Bundle
//	GET  /Patient/{id}, /Organization/{id}, /Practitioner/{id}, /Location/{id}   + ETag W/"n"
//	GET  /Organization?identifier=…ods-organization-code|…, /Practitioner?identifier=…sds-user-id|…
//	POST /Patient/$gpc.getstructuredrecord       Bundle (collection): allergies, medication,
//	                                             problems, investigations, referrals
//	GET  /Slot?start=ge…&end=le…&status=free&_include=Slot:schedule   free slots
//	POST /Appointment                            book: 201, Location, ETag; 409 DUPLICATE_REJECTED
//	GET  /Appointment/{id}                       read
//	PUT  /Appointment/{id}                       amend or cancel (by Ssp-InteractionID), If-Match
//	GET  /Patient/{id}/Appointment?start=ge…&start=le…   the patient's appointments
//
// Register patient and the Access Document endpoints answer 501
// NOT_IMPLEMENTED. Clinical areas of the structured record that the mock does
// not hold (consultations, immunisations, uncategorised data, diary entries)
// and parameters it does not know are answered as GP Connect's forward
// compatibility rule says: ignored, with a not-supported warning in an
// OperationOutcome inside the Bundle.
//
// Every request is checked as a provider behind the Spine Secure Proxy checks
// it: the Ssp-TraceID, Ssp-From, Ssp-To and Ssp-InteractionID headers (400
// BAD_REQUEST when missing; 400 when the interaction does not match the
// endpoint; 403 ACCESS DENIED when Ssp-To is not the provider's ASID, an
// inference: the specification gives the duty but no status, and 403 is what
// the SSP itself answers for an unauthorised receiver ASID), and the unsigned
// audit JWT (400 for anything missing or garbled, exp - iat other than 300 s,
// a reason other than directcare, or a requested_scope that does not match
// the interaction; 422 INVALID_RESOURCE for a requesting device, organisation
// or practitioner that is not a valid FHIR resource; an iat in the future is
// accepted and expiry is not checked). Ssp-From is not checked against a
// list: authorising consumers is the SSP's job. Every response, errors and
// faults included, carries Cache-Control: no-store. Errors are
// GPConnect-OperationOutcome-1 bodies with Spine-ErrorOrWarningCode-1 codes;
// refusals the SSP itself makes (405 for a method the interaction does not
// use, 415 for a body type it does not pass on) use the SSP's own bodies.
//
// The CDS Hooks host's public key set is served at JWKSPath, outside the FHIR
// base and without SSP checks.
//
// In-band faults (mocks/inband) apply to every path, classified by the Op*
// constants. Status faults are answered with the provider's OperationOutcome,
// except 502 (the SSP's ERROR_COMMUNICATING_TO_ENDPOINT_URL_ body), and 504
// and 599 (the SSP timing out; a Status fault's Delay makes the answer come
// only after the timeout). A "read-only" contingency is a 403 or 405 fault on
// WriteOperations. A fault's tenant is the ODS code that starts the request's
// path: the practice the consumer addressed (rather than the Ssp-To ASID,
// because the ODS code is what a scenario knows a practice by and what stays
// visible in proxies' logs); the JWKS path has no tenant.
//
// Effects are journalled (mocks/journal, service "gpconnect"):
// "record.served" (nhs_number; bytes, includes), "appointment.booked",
// "appointment.amended", "appointment.cancelled" (appointment_id,
// nhs_number) and "request.faulted".
//
// Data is synthetic and seeded (mocks/synthetic): the practice, its GPs,
// patients with NHS numbers from the 999 test range, and their records, built
// from a fixed catalogue of coded items. WithLargeRecords grows a seeded
// fraction of records to multi-megabyte size with many plausible entries.
//
// Mocks import nothing from harness/.
package gpconnect
