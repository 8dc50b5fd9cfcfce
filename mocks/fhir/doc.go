// Package fhir owns the small amount of FHIR (STU3 and R4) code the HTTP
// mocks share, because no usable Go FHIR module is available:
//
//   - media-type negotiation: which Accept headers a FHIR JSON server can
//     satisfy (406 otherwise) and which request Content-Types it accepts
//     (415 otherwise), including parameters such as fhirVersion and charset;
//   - the JSON datatypes the mocks read and write (Coding, Identifier,
//     Reference, Extension, Meta, ...);
//   - OperationOutcome, with a builder for the error bodies each service
//     profiles differently;
//   - Parameters, with look-up of parameters by name;
//   - JSON decoding that reports what is wrong and where (byte offset, field
//     path), so a mock can answer a bad body with a clear diagnostics string
//     instead of an opaque one.
//
// It deliberately holds no service behaviour: profiles, error codes and
// business rules belong to the mock that imitates the service (mocks/ers,
// mocks/gpconnect). It imports nothing from harness/.
package fhir
