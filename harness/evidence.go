package harness

import (
	"fmt"
	"math"

	"github.com/shakedown-harness/shakedown/harness/check"
	"github.com/shakedown-harness/shakedown/harness/record"
)

// networkKinds are faults applied on the Toxiproxy proxy as toxics.
var networkKinds = map[string]bool{
	"latency": true, "bandwidth": true, "slow_close": true, "timeout": true,
	"reset_peer": true, "slicer": true, "limit_data": true,
}

// judgeWindows fills in the operations each window overlapped and decides
// whether it demonstrably touched traffic.
func judgeWindows(windows []record.FaultWindow, ops []record.Operation) []record.FaultWindow {
	out := make([]record.FaultWindow, len(windows))
	for i, w := range windows {
		if w.Injected == 0 && w.Reverted == 0 && w.Error == "" {
			w.Evidence.Notes = append(w.Evidence.Notes, "never injected: the run ended before this fault was due")
			out[i] = w
			continue
		}
		end := w.Reverted
		if end == 0 {
			end = w.End
		}
		for _, op := range ops {
			if op.Intended < end && op.Return >= w.Injected {
				w.Evidence.Operations++
				if op.Outcome != record.OK {
					w.Evidence.Affected++
				}
			}
		}
		ev := &w.Evidence
		switch {
		case w.Error != "":
			w.Touched = false
			ev.Notes = append(ev.Notes, "the fault did not apply cleanly: "+w.Error)
		case networkKinds[w.Kind]:
			w.Touched = ev.Connections > 0 || ev.Requests > 0 || ev.BytesIn+ev.BytesOut > 0
			ev.Notes = append(ev.Notes, fmt.Sprintf("%d connections, %d requests and %d bytes crossed the %s proxy while the toxic was applied",
				ev.Connections, ev.Requests, ev.BytesIn+ev.BytesOut, w.Target))
		case w.Kind == "down":
			// Refused connections never reach a listener, so they cannot be
			// counted; judge by the work the SUT was asked to do meanwhile.
			w.Touched = ev.Operations > 0
			ev.Notes = append(ev.Notes, fmt.Sprintf("%s refused every connection; %d workload operations were in flight meanwhile (%d did not succeed)",
				w.Target, ev.Operations, ev.Affected))
		case w.Kind == "crash" || w.Kind == "hang":
			w.Touched = ev.Operations > 0
			ev.Notes = append(ev.Notes, fmt.Sprintf("%d workload operations were in flight while the SUT was %s (%d did not succeed)",
				ev.Operations, map[string]string{"crash": "down", "hang": "frozen"}[w.Kind], ev.Affected))
		default: // in-band
			w.Touched = ev.Faulted > 0
			ev.Notes = append(ev.Notes, fmt.Sprintf("the %s mock faulted %d of the %d requests it received in the window",
				w.Target, ev.Faulted, ev.Requests))
		}
		out[i] = w
	}
	return out
}

// validity is the harness's own judgement of whether the run tested what
// the scenario said: load reached plan, and every fault touched traffic.
func validity(load []record.LoadReport, windows []record.FaultWindow, minLoad float64) []check.Verdict {
	var out []check.Verdict
	for _, l := range load {
		need := int64(math.Ceil(minLoad * float64(l.Planned)))
		v := check.Verdict{Check: "load-achieved[" + l.Workload + "]"}
		switch {
		case l.Planned == 0:
			v.Status = check.Inconclusive
			v.Message = "no load was planned for " + l.Workload
		case l.Issued >= need:
			v.Status = check.Pass
			v.Message = fmt.Sprintf("%d of %d planned arrivals were issued at %.3g/s (%d dropped; at least %d needed)",
				l.Issued, l.Planned, l.Rate, l.Dropped, need)
		default:
			v.Status = check.Inconclusive
			v.Message = fmt.Sprintf("only %d of %d planned arrivals were issued (%d dropped at the in-flight limit); at least %d were needed for the run to count",
				l.Issued, l.Planned, l.Dropped, need)
		}
		out = append(out, v)
	}
	for _, w := range windows {
		v := check.Verdict{Check: fmt.Sprintf("fault-touched[%d]", w.Index)}
		if w.Touched {
			v.Status = check.Pass
			v.Message = w.Name + ": " + joinNotes(w.Evidence.Notes)
		} else {
			v.Status = check.Inconclusive
			v.Message = w.Name + " touched no traffic, so the run says nothing about it: " + joinNotes(w.Evidence.Notes)
		}
		out = append(out, v)
	}
	return out
}

func joinNotes(notes []string) string {
	s := ""
	for i, n := range notes {
		if i > 0 {
			s += "; "
		}
		s += n
	}
	return s
}
