// Command shakedown pilots an integration against realistic NHS mocks
// behind Toxiproxy, injects faults on one timeline and judges the outcome
// with clinical-safety checks. One file per subcommand; flags are parsed
// here into typed values, and only main exits.
package main
