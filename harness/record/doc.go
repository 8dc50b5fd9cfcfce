// Package record owns what a run remembers: the operations the workloads
// drove through the system under test (Operation, History, streamed to
// operations.jsonl as the run goes), the effects the mocks journalled
// (Effect), the fault windows with their evidence (FaultWindow), the SUT's
// lifecycle (SUTEvent) and what load was planned against what was achieved
// (LoadReport). Every time is an offset on one monotonic run clock (Clock).
package record
