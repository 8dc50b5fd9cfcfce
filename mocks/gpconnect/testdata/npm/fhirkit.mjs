// Drives the shakedown GP Connect mock with fhir-kit-client, an independent
// FHIR client, the way a GP Connect consumer would: SSP headers and an
// unsigned audit JWT on every request.
//
// usage: node fhirkit.mjs BASE_URL PROVIDER_ASID CONSUMER_ASID CONSUMER_ODS NHS_NUMBER
// (each argument may instead come from GPC_BASE_URL, GPC_PROVIDER_ASID,
// GPC_CONSUMER_ASID, GPC_CONSUMER_ODS and GPC_NHS_NUMBER).
//
// It reads the CapabilityStatement, finds the patient by NHS number, reads
// the Patient, calls $gpc.getstructuredrecord through the client's operation
// API, searches free slots and books one. It prints one JSON summary line and
// exits 0, or prints what failed and exits 1.
import { randomUUID } from 'node:crypto';
import { Client } from 'fhir-kit-client';

const [baseUrl, providerASID, consumerASID, consumerODS, nhsNumber] = [
  process.argv[2] ?? process.env.GPC_BASE_URL,
  process.argv[3] ?? process.env.GPC_PROVIDER_ASID,
  process.argv[4] ?? process.env.GPC_CONSUMER_ASID,
  process.argv[5] ?? process.env.GPC_CONSUMER_ODS,
  process.argv[6] ?? process.env.GPC_NHS_NUMBER,
];
if (!baseUrl || !providerASID || !consumerASID || !consumerODS || !nhsNumber) {
  console.error('usage: node fhirkit.mjs BASE_URL PROVIDER_ASID CONSUMER_ASID CONSUMER_ODS NHS_NUMBER');
  process.exit(2);
}

const prefix = 'urn:nhs:names:services:gpconnect:';
const b64url = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');

// jwt builds GP Connect's unsigned audit JWT (alg none, empty signature).
function jwt(scope) {
  const iat = Math.floor(Date.now() / 1000);
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({
    iss: 'https://fhirkit.consumer.test/',
    sub: 'fhirkit-user',
    aud: baseUrl,
    exp: iat + 300,
    iat,
    reason_for_request: 'directcare',
    requested_scope: scope,
    requesting_device: {
      resourceType: 'Device',
      identifier: [{ system: 'https://fhirkit.consumer.test/Id/device', value: 'fhirkit' }],
      model: 'fhir-kit-client',
      version: '2.0.3',
    },
    requesting_organization: {
      resourceType: 'Organization',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: consumerODS }],
      name: 'fhir-kit-client consumer',
    },
    requesting_practitioner: {
      resourceType: 'Practitioner',
      id: 'fhirkit-user',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: '111111111111' }],
      name: [{ family: 'KIT', given: ['Fhir'], prefix: ['Dr'] }],
    },
  })}.`;
}

// headers are the per-request SSP headers and JWT for one interaction.
function headers(interaction, scope) {
  return {
    'Ssp-TraceID': randomUUID(),
    'Ssp-From': consumerASID,
    'Ssp-To': providerASID,
    'Ssp-InteractionID': prefix + interaction,
    Authorization: `Bearer ${jwt(scope)}`,
  };
}

const client = new Client({ baseUrl });

async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    const status = err?.response?.status ?? '';
    const body = err?.response?.data ? JSON.stringify(err.response.data) : '';
    console.error(`fhirkit: ${name} failed: ${status} ${err?.message ?? err} ${body}`.trim());
    process.exit(1);
  }
}

function check(cond, msg) {
  if (!cond) {
    console.error(`fhirkit: ${msg}`);
    process.exit(1);
  }
}

const capability = await step('read metadata', () =>
  client.capabilityStatement({ headers: headers('fhir:rest:read:metadata-1', 'organization/*.read') }));
check(capability.resourceType === 'CapabilityStatement', `metadata is a ${capability.resourceType}, want CapabilityStatement`);
check(capability.fhirVersion === '3.0.1', `fhirVersion is ${capability.fhirVersion}, want 3.0.1`);

const found = await step('search Patient', () =>
  client.search({
    resourceType: 'Patient',
    searchParams: { identifier: `https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}` },
    options: { headers: headers('fhir:rest:search:patient-1', 'patient/*.read') },
  }));
check(found.resourceType === 'Bundle' && found.entry?.length === 1, `search for ${nhsNumber} found ${found.entry?.length ?? 0} patients, want 1`);
const patientId = found.entry[0].resource.id;

const patient = await step('read Patient', () =>
  client.read({ resourceType: 'Patient', id: patientId, options: { headers: headers('fhir:rest:read:patient-1', 'patient/*.read') } }));
check(patient.identifier?.some((i) => i.value === nhsNumber), `Patient/${patientId} does not carry NHS number ${nhsNumber}`);

const record = await step('$gpc.getstructuredrecord', () =>
  client.operation({
    resourceType: 'Patient',
    name: '$gpc.getstructuredrecord',
    input: {
      resourceType: 'Parameters',
      parameter: [
        { name: 'patientNHSNumber', valueIdentifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber } },
        { name: 'includeAllergies', part: [{ name: 'includeResolvedAllergies', valueBoolean: true }] },
        { name: 'includeMedication', part: [{ name: 'includePrescriptionIssues', valueBoolean: true }] },
        { name: 'includeProblems' },
        { name: 'includeInvestigations' },
        { name: 'includeReferrals' },
      ],
    },
    options: { headers: headers('fhir:operation:gpc.getstructuredrecord-1', 'patient/*.read') },
  }));
check(record.resourceType === 'Bundle' && record.type === 'collection', `structured record is a ${record.resourceType} ${record.type}, want a collection Bundle`);
const lists = record.entry.filter((e) => e.resource.resourceType === 'List').length;
check(lists >= 5, `structured record has ${lists} Lists, want one per clinical area`);

const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
const slots = await step('search Slot', () =>
  client.search({
    resourceType: 'Slot',
    searchParams: {
      start: `ge${day(1)}`,
      end: `le${day(8)}`,
      status: 'free',
      _include: 'Slot:schedule',
      '_include:recurse': ['Schedule:actor:Practitioner', 'Schedule:actor:Location'],
      searchFilter: [`https://fhir.nhs.uk/Id/ods-organization-code|${consumerODS}`],
    },
    options: { headers: headers('fhir:rest:search:slot-1', 'organization/*.read') },
  }));
const slot = slots.entry?.find((e) => e.resource.resourceType === 'Slot')?.resource;
check(slot, 'no free slot found in the next week');

const booked = await step('book Appointment', () =>
  client.create({
    resourceType: 'Appointment',
    body: {
      resourceType: 'Appointment',
      contained: [{
        resourceType: 'Organization',
        id: '1',
        identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: consumerODS }],
        name: 'fhir-kit-client consumer',
      }],
      extension: [{ url: 'https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1', valueReference: { reference: '#1' } }],
      status: 'booked',
      description: 'Booked by fhir-kit-client',
      start: slot.start,
      end: slot.end,
      slot: [{ reference: `Slot/${slot.id}` }],
      participant: [{ actor: { reference: `Patient/${patientId}` }, status: 'accepted' }],
    },
    options: { headers: headers('fhir:rest:create:appointment-1', 'patient/*.write') },
  }));
check(booked.resourceType === 'Appointment' && booked.id, 'booking did not return an Appointment with an id');

console.log(JSON.stringify({ ok: true, patientId, recordEntries: record.entry.length, slotId: slot.id, appointmentId: booked.id }));
