// Drives the shakedown pathology mocks with @medplum/hl7, an HL7 v2 / MLLP
// client and server nobody here wrote.
//
//   node medplum.mjs send HOST PORT NHS   send one ORU^R01 to the Go Listener;
//                                         print {"ok","msh10","msa1","msa2"}
//   node medplum.mjs serve N              listen on 127.0.0.1 (a free port), print
//                                         {"port":P}, ACK (AA) each message, and after
//                                         N messages print {"received":[MSH-10...]}
import { Hl7Message } from '@medplum/core';
import { Hl7Client, Hl7Server } from '@medplum/hl7';

const [mode, ...args] = process.argv.slice(2);

function field(msg, seg, n, comp = 1) {
  return msg.getSegment(seg)?.getField(n)?.getComponent(comp) ?? '';
}

async function send(host, port, nhs) {
  const msh10 = 'MEDPLUM' + Date.now();
  const text = [
    `MSH|^~\\&|MEDPLUM|YLAB9|GPSYS|Y12345|20250101093000||ORU^R01^ORU_R01|${msh10}|P|2.5.1|||AL|NE`,
    `PID|1||${nhs}^^^NHS^NH||TESTPATIENT^Alex||19800101|F`,
    'PV1|1|O',
    'ORC|RE|PL1|FI1',
    'OBR|1|PL1|FI1|HBA1C^HbA1c^LOCAL|||20250101080000|||||||||||||||20250101090000|||F',
    'OBX|1|NM|HBA1C^HbA1c^LOCAL||48|mmol/mol|20-41|H|||F',
  ].join('\r');
  const client = new Hl7Client({ host, port: Number(port), connectTimeout: 10000 });
  try {
    const ack = await client.sendAndWait(Hl7Message.parse(text), { timeoutMs: 10000 });
    const msa1 = field(ack, 'MSA', 1);
    const msa2 = field(ack, 'MSA', 2);
    console.log(JSON.stringify({ ok: msa1 === 'AA' && msa2 === msh10, msh10, msa1, msa2 }));
  } finally {
    await client.close();
  }
}

function serve(n) {
  const received = [];
  const server = new Hl7Server((connection) => {
    connection.addEventListener('message', ({ message }) => {
      received.push(field(message, 'MSH', 10));
      connection.send(message.buildAck());
      if (received.length === n) {
        console.log(JSON.stringify({ received }));
        server.stop({ forceDrainTimeoutMs: 100 }).then(() => process.exit(0));
      }
    });
  });
  server.start(0);
  server.server.on('listening', () => {
    console.log(JSON.stringify({ port: server.server.address().port }));
  });
  setTimeout(() => {
    console.error(`timed out with ${received.length} of ${n} messages`);
    process.exit(1);
  }, 30000).unref();
}

if (mode === 'send') {
  await send(...args);
  process.exit(0); // the client's timers would otherwise hold node open
} else if (mode === 'serve') {
  serve(Number(args[0]));
} else {
  console.error('usage: node medplum.mjs send HOST PORT NHS | serve N');
  process.exit(2);
}
