// Independent check of shakedown's CDS Hooks host with the npm package
// cds-validator (MIT, https://github.com/cds-hooks/cds-validator), which
// nobody in this project wrote.
//
//   node validate.mjs [--strict] request:FILE discovery:FILE cards:FILE ...
//
//   request:   a service request body as the host sent it   (cds-validator ServiceRequest)
//   discovery: a discovery response body                     (cds-validator DiscoveryResponse)
//   cards:     a service response body {"cards": [...]}      (cds-validator Card)
//
// Exits 0 when every file passes, 1 listing every error otherwise, 2 on
// usage errors.
//
// cds-validator 0.3.0 encodes the 2016 CDS Hooks draft, before 1.0. Where
// that draft and the current spec (HL7 CDS Hooks 2.0) disagree, the draft's
// schema error is reported as DRIFT and does not fail the run; each drift rule
// below names the spec change that explains it. Everything else the schemas
// check (JSON types, required hook/hookInstance/fhirServer, card summary,
// indicator and source.label, link label and url, unknown fields that are not
// in the current spec either) is an ERROR. --strict makes drift fail too.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const validators = require('cds-validator');

const kinds = {
  request: validators.ServiceRequest,
  discovery: validators.DiscoveryResponse,
  cards: validators.Card,
};

const idx = String.raw`\[\d+\]`;
const re = (s) => new RegExp('^' + s + '$');

// Each rule matches one jsonschema error (name, property, and argument or
// instance) that the current spec makes legal.
const drift = {
  request: [
    { name: 'required', property: re('instance\\.redirect'), why: 'the draft\'s redirect was removed in CDS Hooks 1.0' },
    { name: 'required', property: re('instance\\.user'), why: 'CDS Hooks 1.0 moved the user into context.userId' },
    { name: 'type', property: re('instance\\.context'), why: 'CDS Hooks 1.0 made context an object (the draft had an array)' },
    { name: 'additionalProperties', property: re('instance'), argument: /^fhirAuthorization$/, why: 'fhirAuthorization is CDS Hooks 1.0' },
    { name: 'required', property: re(String.raw`instance\.prefetch\.[^.]+\.(response|resource)`), why: 'since 1.0 a prefetch value is the FHIR resource itself, not {response, resource}' },
    { name: 'additionalProperties', property: re(String.raw`instance\.prefetch\.[^.]+`), why: 'since 1.0 a prefetch value is the FHIR resource itself, not {response, resource}' },
  ],
  discovery: [
    { name: 'required', property: re(`instance\\.services${idx}\\.name`), why: 'CDS Hooks 1.0 renamed name to title (optional)' },
    { name: 'additionalProperties', property: re(`instance\\.services${idx}`), argument: /^(title|usageRequirements)$/, why: 'title and usageRequirements are CDS Hooks 1.0' },
  ],
  cards: [
    { name: 'required', property: re(`instance\\.cards${idx}\\.detail`), why: 'card detail is optional since CDS Hooks 1.0' },
    { name: 'enum', property: re(`instance\\.cards${idx}\\.indicator`), instance: 'critical', why: 'CDS Hooks 1.0 renamed hard-stop to critical' },
    { name: 'required', property: re(`instance\\.cards${idx}\\.suggestions${idx}\\.uuid`), why: 'suggestion uuid is optional since CDS Hooks 1.0' },
    { name: 'additionalProperties', property: re('instance'), argument: /^systemActions$/, why: 'systemActions is top-level since CDS Hooks 1.0' },
    { name: 'additionalProperties', property: re(`instance\\.cards${idx}`), argument: /^(uuid|selectionBehavior|overrideReasons)$/, why: 'card uuid, selectionBehavior and overrideReasons are CDS Hooks 1.0' },
    { name: 'additionalProperties', property: re(`instance\\.cards${idx}\\.source`), argument: /^(icon|topic)$/, why: 'source icon and topic are CDS Hooks 1.0' },
    { name: 'additionalProperties', property: re(`instance\\.cards${idx}\\.suggestions${idx}`), argument: /^(isRecommended|actions)$/, why: 'suggestion actions (replacing create/delete) and isRecommended are CDS Hooks 1.0' },
    { name: 'additionalProperties', property: re(`instance\\.cards${idx}\\.links${idx}`), argument: /^(type|appContext)$/, why: 'link type and appContext are CDS Hooks 1.0 (SMART links)' },
  ],
};

function isDrift(kind, err) {
  return drift[kind].find((r) =>
    r.name === err.name &&
    r.property.test(err.property) &&
    (r.argument === undefined || r.argument.test(String(err.argument))) &&
    (r.instance === undefined || r.instance === err.instance));
}

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const files = args.filter((a) => a !== '--strict');
if (files.length === 0) {
  console.error('usage: node validate.mjs [--strict] request:FILE | discovery:FILE | cards:FILE ...');
  process.exit(2);
}

let failed = false;
for (const arg of files) {
  const sep = arg.indexOf(':');
  const kind = sep > 0 ? arg.slice(0, sep) : '';
  const file = arg.slice(sep + 1);
  if (!kinds[kind]) {
    console.error(`${arg}: unknown kind ${JSON.stringify(kind)} (want request, discovery or cards)`);
    process.exit(2);
  }
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`${arg}: ${e.message}`);
    process.exit(2);
  }
  let errors = [];
  try {
    await kinds[kind](text);
  } catch (errs) {
    errors = Array.isArray(errs) ? errs : [{ property: 'instance', message: String(errs) }];
  }
  let bad = 0;
  for (const e of errors) {
    const rule = isDrift(kind, e);
    const where = `${file} (${kind})`;
    if (rule && !strict) {
      console.log(`DRIFT ${where}: ${e.property} ${e.message} [${rule.why}]`);
    } else {
      bad++;
      console.log(`ERROR ${where}: ${e.property} ${e.message}${rule ? ` [drift: ${rule.why}]` : ''}`);
    }
  }
  if (bad > 0) failed = true;
  else console.log(`OK    ${file} (${kind})`);
}
process.exit(failed ? 1 : 0);
