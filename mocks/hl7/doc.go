// Package hl7 is the small HL7 v2 and MLLP code the pathology mocks share.
// No usable Go HL7 module is available from the module proxy, so this is
// ours, kept minimal.
//
// A Message is a list of segments; a segment's fields hold repetitions (~),
// a repetition holds components (^) and a component holds subcomponents (&).
// Values are stored unescaped: Parse decodes the escape sequences \F\ \S\ \T\
// \R\ \E\ \Xhh…\ and \.br\ (a line break, kept as "\n"), and String encodes
// them again, always using the delimiters the message declares in MSH-1 and
// MSH-2. Escape sequences this package does not interpret (highlighting \H\
// \N\, character sets \C…\ \M…\, \Z…\ and other formatting commands) are kept
// verbatim in the value, so they survive a round trip.
//
// Get and Set address values by path: "MSH-10", "PID-3[2].1", "OBX[3]-5",
// "PID-5.1.2" (segment[occurrence]-field[repetition].component.subcomponent,
// all 1-based; an omitted occurrence or repetition means the first).
//
// BuildORU and BuildACK make the two messages a lab feed exchanges (ORU^R01
// in 2.4 or 2.5.1 and its ACK with MSA and, for AE/AR, ERR). Reader and
// Writer frame messages with MLLP: 0x0B, message, 0x1C 0x0D.
package hl7
