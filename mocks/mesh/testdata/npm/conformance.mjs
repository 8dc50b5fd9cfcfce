// Drives the shakedown MESH mock with nhs-mesh-client (NHS-authored; nobody
// here wrote it) over plain http: axios ignores httpsAgent for http URLs.
// Usage: node conformance.mjs URL SENDER SENDER_PASSWORD RECEIVER RECEIVER_PASSWORD SHARED_KEY WORKFLOW
// Prints one JSON line: {"ok":true,"messageId":...,"listed":true,"body":...}.
import { handShake, sendMessage, getMessageCount, readMessage, markAsRead } from "nhs-mesh-client";
import log from "loglevel";

log.setLevel("silent");
const [url, sender, senderPw, receiver, receiverPw, sharedKey, workflow] = process.argv.slice(2);
const fail = (step, r) => {
  console.error(`${step} failed: ${r?.message ?? ""} ${r?.response?.status ?? r?.status ?? ""}`);
  process.exit(1);
};

const hs = await handShake({ url, mailboxID: sender, mailboxPassword: senderPw, sharedKey });
if (hs?.status !== 200) fail("handshake", hs);

const body = "MSH|^~\\&|LAB|X26LAB01|GP|X26ABC2|202603020930||ORU^R01|MSG0001|P|2.4";
const sent = await sendMessage({
  url, mailboxID: sender, mailboxPassword: senderPw, sharedKey,
  message: body, mailboxTarget: receiver, workFlowId: workflow, fileName: "result.hl7",
});
if (sent?.status !== 202) fail("send", sent);
const messageId = sent.data.message_id;

const inbox = await getMessageCount({ url, mailboxID: receiver, mailboxPassword: receiverPw, sharedKey });
if (inbox?.status !== 200) fail("list", inbox);
const listed = inbox.data.messages.includes(messageId);

const read = await readMessage({ url, mailboxID: receiver, mailboxPassword: receiverPw, sharedKey, messageID: messageId });
if (read?.status !== 200) fail("download", read);

const ack = await markAsRead({ url, mailboxID: receiver, mailboxPassword: receiverPw, sharedKey, message: messageId });
if (ack?.status !== 200) fail("acknowledge", ack);

console.log(JSON.stringify({ ok: true, messageId, listed, count: inbox.data.approx_inbox_count, body: read.data, from: read.headers["mex-from"] }));
